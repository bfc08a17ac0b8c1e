"""rldg_data.loaders: windows, chunks, normalization, determinism, mixes and adapters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rldg_data import spec
from rldg_data.errors import ContractError, RldgError
from rldg_data.loaders import (LoaderConfig, LoaderConfigError, Normalizer, RLDSLoader,
                               compute_statistics, jax_batches, torch_dataset)
from rldg_data.loaders.windows import chunk_indices, history_indices
from rldg_data.reader import read_episodes
from rldg_data.writer import write_dataset
from tests.factories import make_episodes

ONE_EPOCH = dict(repeat=False, normalization="none", batch_size=4, window_buffer=8)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    episodes = make_episodes(12, seed=3, image_size=16)
    lossless = dataclasses.replace(episodes[0].spec(), image_encoding="png")
    return write_dataset(episodes, tmp_path_factory.mktemp("d"), "loader_ds", lossless), episodes


def _epoch(loader):
    return list(loader)


def test_one_epoch_yields_every_step_with_a_real_action_once(dataset):
    path, episodes = dataset
    batches = _epoch(RLDSLoader(path, LoaderConfig(**ONE_EPOCH)))
    got = sorted(tuple(np.round(a, 5)) for b in batches for a in b["action"][:, 0])
    want = sorted(tuple(np.round(a, 5)) for ep in episodes for a in ep.actions[:-1])
    assert got == want


def test_history_repeats_the_first_frame_and_chunks_repeat_the_last_action(dataset):
    path, episodes = dataset
    ep = episodes[0]
    loader = RLDSLoader(path, LoaderConfig(**{**ONE_EPOCH, "shuffle": False, "window": 3, "chunk": 5}))
    first = next(iter(loader))  # unshuffled: the first windows are episode 0's, t = 0, 1, ...
    assert first["pad_mask"][0].tolist() == [False, False, True]
    np.testing.assert_array_equal(first["image"][0, 0], ep.steps[spec.IMAGE][0])
    np.testing.assert_array_equal(first["image"][1, 2], ep.steps[spec.IMAGE][1])
    n = len(ep) - 1  # anchors with real actions
    chunk, mask = chunk_indices(np.array([n - 1]), 5, len(ep))
    assert mask[0].tolist() == [True] + [False] * 4 and (chunk[0] == n - 1).all()
    hist, hmask = history_indices(np.array([0, 4]), 3)
    assert hist.tolist() == [[0, 0, 0], [2, 3, 4]] and hmask[0].tolist() == [False, False, True]


def test_same_seed_same_batches_other_seed_other_order(dataset):
    path, _ = dataset
    a = _epoch(RLDSLoader(path, LoaderConfig(**ONE_EPOCH, seed=7)))
    b = _epoch(RLDSLoader(path, LoaderConfig(**ONE_EPOCH, seed=7)))
    c = _epoch(RLDSLoader(path, LoaderConfig(**ONE_EPOCH, seed=8)))
    for x, y in zip(a, b):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
    assert any(not np.array_equal(x["action"], y["action"]) for x, y in zip(a, c))


def test_normalization_uses_the_dataset_statistics_and_leaves_the_gripper(dataset):
    path, episodes = dataset
    stats = compute_statistics([path])
    acts = np.concatenate([ep.actions[:-1] for ep in episodes])
    np.testing.assert_allclose(stats["action"]["mean"], acts.mean(0), atol=1e-5)
    assert stats["num_trajectories"] == len(episodes) and stats["num_transitions"] == len(acts)
    assert stats["action"]["mask"] == [True, True, True, False]
    loader = RLDSLoader(path, LoaderConfig(**{**ONE_EPOCH, "normalization": "normal", "shuffle": False}))
    first = np.concatenate([b["action"][:, 0] for b in _epoch(loader)])
    mean, std = (np.asarray(loader.statistics["action"][k], np.float32) for k in ("mean", "std"))
    np.testing.assert_allclose(first[:, :3], (acts[:, :3] - mean[:3]) / std[:3], atol=1e-4)
    assert abs(first[:, :3].mean()) < 0.5 and 0.5 < first[:, :3].std() < 1.5
    np.testing.assert_array_equal(first[:, 3], acts[:, 3])  # the gripper is not normalized


def test_normalizer_round_trip_and_openvla_rules():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (50, 4)).astype(np.float32)
    x[:, 1] = 0.25  # constant dimension
    from rldg_data.loaders.statistics import summarize
    stats = {"action": summarize(x), "proprio": summarize(x)}
    normal = Normalizer(stats, "normal")
    np.testing.assert_allclose(normal.denormalize(normal.normalize(x, "action"), "action"), x, atol=1e-5)
    q99 = Normalizer(stats, "bounds_q99").normalize(x, "action")
    assert (q99[:, 1] == 0).all() and np.abs(q99).max() <= 1 and (q99[:, 3] == x[:, 3]).all()


def test_weighted_mix_draws_from_both_datasets(dataset, tmp_path):
    path, _ = dataset
    other = write_dataset(make_episodes(6, seed=9, image_size=16), tmp_path, "other")
    loader = RLDSLoader([path, other], LoaderConfig(batch_size=32, window_buffer=16), weights=[3, 1])
    it = iter(loader)
    idx = np.concatenate([next(it)["dataset_index"] for _ in range(8)])
    share = (idx == 1).mean()
    assert 0.1 < share < 0.45


def test_bad_settings_and_damaged_shards_fail_clearly(dataset, tmp_path):
    path, episodes = dataset
    with pytest.raises(LoaderConfigError, match="batch_size"):
        LoaderConfig(batch_size=0)
    with pytest.raises(RldgError, match="wrist_image"):
        RLDSLoader(path, LoaderConfig(wrist=True))
    broken = write_dataset(episodes[:3], tmp_path, "broken")
    shard = next(broken.glob("broken-train.tfrecord-*"))
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(ContractError, match="truncated") as err:
        RLDSLoader(broken, LoaderConfig())
    assert shard.name in str(err.value)


def test_torch_and_jax_adapters_give_tensors(dataset):
    import jax
    import torch

    path, _ = dataset
    loader = RLDSLoader(path, LoaderConfig(**{**ONE_EPOCH, "normalization": "normal"}))
    batches = list(torch.utils.data.DataLoader(torch_dataset(loader), batch_size=None, num_workers=0))
    assert isinstance(batches[0]["image"], torch.Tensor) and batches[0]["image"].dtype == torch.uint8
    assert sum(len(b["action"]) for b in batches) == sum(len(e) - 1 for e in read_episodes(path))
    first = next(jax_batches(loader))
    assert isinstance(first["action"], jax.Array) and first["action"].shape[1:] == (4, 4)
