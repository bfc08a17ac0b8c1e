"""Statistics: exact merges in any order, q01/q99 within 0.5% of numpy, the Octo/OpenVLA layout."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from rldg_data.errors import DatasetError
from hypothesis import given, settings, strategies as st

from rldg_data.stats.accumulators import STATS_FILE, StatsAccumulator
from rldg_data.stats.beam import pack, unpack
from rldg_data.stats.dataset import compute_dataset_statistics, dataset_statistics


def _episodes(rng, n, dist):
    out = []
    for _ in range(n):
        t = int(rng.integers(5, 60))
        out.append({"action": np.clip(rng.normal(0, 0.4, (t, 4)), -1, 1).astype(np.float32),
                    "proprio": dist(rng, (t, 3)).astype(np.float32)})
    return out


@pytest.mark.parametrize("dist", [lambda r, s: r.normal(2.0, 3.0, s), lambda r, s: r.lognormal(0, 2, s),
                                  lambda r, s: r.uniform(-50, 10, s)])
def test_q01_q99_within_half_a_percent_of_numpy(dist):
    rng = np.random.default_rng(0)
    eps = _episodes(rng, 300, dist)
    acc = StatsAccumulator()
    for e in eps:
        acc.add_arrays(e)
    stats = acc.to_dict()
    for key in ("action", "proprio"):
        data = np.concatenate([e[key] for e in eps]).astype(np.float64)
        for q, name in ((0.01, "q01"), (0.99, "q99")):
            exact = np.quantile(data, q, axis=0)
            assert np.all(np.abs(np.array(stats[key][name]) - exact) <= 0.005 * np.abs(exact) + 1e-6)
        assert np.allclose(stats[key]["mean"], data.mean(0), rtol=1e-9, atol=1e-9)
        assert np.allclose(stats[key]["std"], data.std(0), rtol=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6))
def test_merging_partials_in_any_order_gives_identical_statistics(seed, parts):
    rng = np.random.default_rng(seed)
    eps = _episodes(rng, 24, lambda r, s: r.normal(0, 5, s))
    whole = StatsAccumulator()
    for e in eps:
        whole.add_arrays(e)
    order = list(range(len(eps)))
    random.Random(seed).shuffle(order)
    partials = [StatsAccumulator() for _ in range(parts)]
    for k, i in enumerate(order):
        partials[k % parts].add_arrays(eps[i])
    merged = StatsAccumulator()
    for p in reversed(partials):
        merged.merge(p)
    assert json.dumps(merged.to_dict()) == json.dumps(whole.to_dict())


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 4))
def test_packed_partials_merge_to_the_same_statistics(seed, parts):
    """What the mix's workers write (`pack`) and its driver reads back (`unpack`) loses nothing:
    exact sums, min/max and every histogram count, also of a part with no episode."""
    rng = np.random.default_rng(seed)
    eps = _episodes(rng, 12, lambda r, s: r.normal(0, 5, s) * r.integers(1, 10**6))
    whole, merged = StatsAccumulator(), StatsAccumulator()
    partials = [StatsAccumulator() for _ in range(parts + 1)]  # the last one stays empty
    for k, e in enumerate(eps):
        whole.add_arrays(e)
        partials[k % parts].add_arrays(e)
    for p in partials:
        merged.merge(unpack(pack(p)))
    assert json.dumps(merged.to_dict()) == json.dumps(whole.to_dict())
    for key, field in whole.fields.items():
        assert np.array_equal(merged.fields[key].hist, field.hist)


def test_unpack_refuses_what_pack_did_not_write():
    blob = pack(StatsAccumulator().add_arrays({"action": np.ones((3, 2)), "proprio": np.ones((4, 3))}))
    with pytest.raises(DatasetError, match="not a packed statistics accumulator"):
        unpack(b"\x80\x04" + blob)  # e.g. a pickle: never loaded
    with pytest.raises(DatasetError, match="bytes past its end"):
        unpack(blob + b"\0")


def test_compute_dataset_statistics_writes_the_file(tiny_dataset):
    path, episodes = tiny_dataset
    stats = compute_dataset_statistics(path)
    assert json.loads((path / STATS_FILE).read_text()) == stats
    assert stats["num_trajectories"] == len(episodes)
    assert stats["num_transitions"] == sum(len(e) - 1 for e in episodes)  # RLDS: last action is not data
    assert stats["num_steps"] == sum(len(e) for e in episodes)
    assert set(stats["action"]) >= {"mean", "std", "min", "max", "p01", "p99", "q01", "q99", "mask"}
    actions = np.concatenate([e.actions[:-1] for e in episodes]).astype(np.float64)
    states = np.concatenate([e.steps["observation/state"] for e in episodes]).astype(np.float64)
    np.testing.assert_allclose(stats["action"]["mean"], actions.mean(0), atol=1e-9)
    np.testing.assert_allclose(stats["action"]["max"], actions.max(0))
    np.testing.assert_allclose(stats["proprio"]["mean"], states.mean(0), atol=1e-9)


def test_reading_statistics_never_writes_and_follows_the_split(tmp_path):
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episodes

    eps = make_episodes(6, seed=3, image_size=16)
    path = write_dataset({"train": eps[:4], "val": eps[4:]}, tmp_path, "two_splits")
    before = sorted(p.name for p in path.iterdir())
    train, val = dataset_statistics(path), dataset_statistics(path, "val")
    assert sorted(p.name for p in path.iterdir()) == before  # nothing written into the dataset
    assert train["num_trajectories"] == 4 and val["num_trajectories"] == 2
    assert train["num_transitions"] == sum(len(e) - 1 for e in eps[:4])
    assert train != val
