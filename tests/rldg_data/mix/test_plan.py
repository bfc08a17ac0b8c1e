"""Deterministic selection: weights hold on 1,000+ episodes, choice depends on ids and seed only."""

from __future__ import annotations

import random

import pytest

from rldg_data.mix import plan
from rldg_data.errors import RecipeError


def _select(ids_by_source, seed, weights=None, counts=None):
    hashes = {s: sorted(plan.episode_hash(seed, i) for i in ids) for s, ids in ids_by_source.items()}
    take = plan.counts_to_take({s: len(h) for s, h in hashes.items()}, weights, counts)
    limits = {s: plan.threshold(hashes[s], take[s]) for s in hashes}
    return {s: {i for i in ids if plan.episode_hash(seed, i) <= limits[s]} for s, ids in ids_by_source.items()}


@pytest.mark.parametrize("weights", [{"rl": 0.5, "human": 0.3, "scripted": 0.2}, {"rl": 1, "human": 3, "scripted": 1}])
def test_requested_proportions_hold_within_two_points(weights):
    ids = {"rl": [f"rl-{i}" for i in range(900)], "human": [f"h-{i}" for i in range(2000)],
           "scripted": [f"s-{i}" for i in range(700)]}
    chosen = _select(ids, seed=3, weights=weights)
    total = sum(len(v) for v in chosen.values())
    assert total >= 1000
    for s, w in weights.items():
        assert abs(len(chosen[s]) / total - w / sum(weights.values())) <= 0.02


def test_selection_does_not_depend_on_input_order():
    ids = {"rl": [f"rl-{i}" for i in range(500)], "human": [f"h-{i}" for i in range(500)]}
    shuffled = {s: random.Random(1).sample(v, len(v)) for s, v in ids.items()}
    assert _select(ids, 5, {"rl": 1, "human": 1}) == _select(shuffled, 5, {"rl": 1, "human": 1})
    assert _select(ids, 5, counts={"rl": 10, "human": 3}) != _select(ids, 6, counts={"rl": 10, "human": 3})


def test_asking_more_episodes_than_available_names_the_source():
    with pytest.raises(RecipeError, match="'human'"):
        plan.counts_to_take({"rl": 10, "human": 2}, counts={"rl": 1, "human": 5})


def test_val_split_fraction_is_close_to_requested():
    val = sum(plan.is_val(0, f"ep-{i}", 0.1) for i in range(5000))
    assert 0.09 < val / 5000 < 0.11
