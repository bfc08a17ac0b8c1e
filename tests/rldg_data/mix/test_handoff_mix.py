"""A mix of hand-off episodes with `trim_pauses`: clean where humans act, and the card says so."""

from __future__ import annotations

import json

import numpy as np

from rldg_data.contract import spec
from rldg_data.io.reader import read_episodes
from rldg_data.io.writer import write_dataset
from rldg_data.mix.pipeline import build_mix
from rldg_data.mix.recipe import recipe_from_dict
from rldg_data.transforms.stitch import stitch_handoff
from tests.factories import make_episode


def _handoffs(n: int) -> list:
    """n hand-off episodes: human steps 0..5 (idle hand at 2 and 3), then 5 specialist steps (idle at 1)."""
    episodes = []
    for i in range(n):
        human = make_episode(f"h{i}", length=8, source="human", seed=10 + i, image_size=8, task="assembly",
                             variant="round_nut")
        actions = human.actions.copy()
        actions[[2, 3], :3] = 0.0
        human = human.replace({spec.ACTION: actions})
        rl = make_episode(f"r{i}", length=5, source="rl", seed=50 + i, image_size=8, task="assembly",
                          variant="round_nut")
        actions = rl.actions.copy()
        actions[1, :3] = 0.0
        rl = rl.replace({spec.ACTION: actions})
        episodes.append(stitch_handoff(human, rl, handoff=6, episode_id=f"handoff-{i}"))
    return episodes


def test_trimmed_handoff_mix_cleans_human_segments_only_and_the_card_counts_it(tmp_path):
    raw = _handoffs(4)
    write_dataset(raw, tmp_path, "handoff_data")
    recipe = recipe_from_dict({"name": "clean_handoff", "seed": 0, "val_fraction": 0.0, "sources": {
        "handoff": {"path": "handoff_data", "relabels": {"trim_pauses": True}},
        "plain": {"path": "handoff_data", "filters": {"variants": ["none_of_these"]}}}}, tmp_path)
    out = build_mix(recipe, tmp_path / "out")
    by_id = {e.episode_id: e for e in read_episodes(out)}
    assert sorted(by_id) == [f"handoff-{i}" for i in range(4)]
    for original in raw:
        mixed = by_id[original.episode_id]
        src = np.asarray(mixed.steps[spec.SOURCE]).astype(str)
        assert (src == "human").sum() == 4 and (src == "rl").sum() == 5
        orig_src = np.asarray(original.steps[spec.SOURCE]).astype(str)
        np.testing.assert_array_equal(mixed.actions[src == "rl"], original.actions[orig_src == "rl"])
        np.testing.assert_array_equal(mixed.steps[spec.STATE][src == "rl"], original.steps[spec.STATE][orig_src == "rl"])
    info = json.loads((out / "rldg_info.json").read_text())["sources"]["handoff"]
    assert info["removed_by_segment"] == {"human": 8, "rl": 0}
    assert info["steps_by_segment"] == {"human": 16, "rl": 20}
    card = (out / "README.md").read_text()
    assert "| handoff | human | trim_pauses | 24 | 8 | 33.3% | 16 |" in card
    assert "| handoff | rl | trim_pauses | 20 | 0 | 0.0% | 20 |" in card


def test_a_mix_without_cleaning_reports_nothing_removed(tmp_path):
    write_dataset(_handoffs(2), tmp_path, "handoff_data")
    recipe = recipe_from_dict({"name": "raw_handoff", "seed": 0, "val_fraction": 0.0,
                               "sources": {"handoff": {"path": "handoff_data"}}}, tmp_path)
    out = build_mix(recipe, tmp_path / "out")
    info = json.loads((out / "rldg_info.json").read_text())["sources"]["handoff"]
    assert info["removed_by_segment"] == {"human": 0, "rl": 0}
    assert "| handoff | human | none | 12 | 0 | 0.0% | 12 |" in (out / "README.md").read_text()
