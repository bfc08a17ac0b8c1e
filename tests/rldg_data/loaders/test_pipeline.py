"""rldg_data.loaders: windows, chunks, normalization, determinism, mixes and adapters."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from rldg_data.contract import spec
from rldg_data.errors import ContractError, RldgError
from rldg_data.loaders import (LoaderConfig, LoaderConfigError, Normalizer, RLDSLoader,
                               compute_statistics, jax_batches, torch_dataset)
from rldg_data.loaders.windows import chunk_indices, history_indices
from rldg_data.io.reader import read_episodes
from rldg_data.io.writer import write_dataset
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


@pytest.fixture(scope="module")
def wrist_dataset(tmp_path_factory):
    episodes = make_episodes(7, seed=5, image_size=8, wrist=True)
    lossless = dataclasses.replace(episodes[0].spec(), image_encoding="png")
    return write_dataset(episodes, tmp_path_factory.mktemp("w"), "wrist_ds", lossless), episodes


def _reference_windows(episodes, normalizer, window, chunk):
    """Every window of `episodes`, in order, computed the plain way (one window at a time)."""
    out = []
    for ep in episodes:
        state = normalizer.normalize(ep.steps[spec.STATE], "proprio")
        action = normalizer.normalize(ep.steps[spec.ACTION], "action")
        last = len(ep) - 2
        for t in range(len(ep) - 1):
            hist = [max(i, 0) for i in range(t - window + 1, t + 1)]
            acts = [min(i, last) for i in range(t, t + chunk)]
            out.append({
                "image": ep.steps[spec.IMAGE][hist], "wrist_image": ep.steps[spec.WRIST_IMAGE][hist],
                "state": state[hist], "pad_mask": np.arange(t - window + 1, t + 1) >= 0,
                "action": action[acts], "action_pad_mask": np.arange(t, t + chunk) <= last,
                "language_instruction": str(ep.steps[spec.LANGUAGE_INSTRUCTION][0]), "dataset_index": 0})
    return out


def _unbatch(batches):
    return [{k: b[k][i] for k in b} for b in batches for i in range(len(b["action"]))]


def _window_key(w):
    return b"".join(np.ascontiguousarray(w[k]).tobytes() for k in sorted(w) if k != "language_instruction")


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_equal_the_windows_computed_one_by_one(wrist_dataset, shuffle):
    path, episodes = wrist_dataset
    config = LoaderConfig(repeat=False, batch_size=5, window_buffer=6, window=3, chunk=5, wrist=True,
                          shuffle=shuffle, seed=2)
    loader = RLDSLoader(path, config)
    batches = _epoch(loader)
    assert [len(b["action"]) for b in batches[:-1]] == [5] * (len(batches) - 1)
    assert batches[0]["image"].shape[1:] == (3, 8, 8, 3) and batches[0]["action"].shape[1:] == (5, 4)
    got = _unbatch(batches)
    want = _reference_windows(episodes, loader.normalizer, 3, 5)
    if shuffle:  # the same windows, in another order
        assert [_window_key(w) for w in got] != [_window_key(w) for w in want]
        got, want = sorted(got, key=_window_key), sorted(want, key=_window_key)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for key in w:
            np.testing.assert_array_equal(g[key], w[key], err_msg=key)


def test_frames_decode_once_to_the_written_pixels_and_resize_on_request():
    from rldg_data.io.images import decode_images as decode_frames

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (130, 6, 5, 3), dtype=np.uint8)
    blobs = []
    for frame in frames:
        out = io.BytesIO()
        Image.fromarray(frame).save(out, format="PNG")
        blobs.append(out.getvalue())
    np.testing.assert_array_equal(decode_frames(np.asarray(blobs, object)), frames)
    np.testing.assert_array_equal(decode_frames(blobs[:3], size=None), frames[:3])
    assert decode_frames(blobs[:2], size=8).shape == (2, 8, 8, 3)
    assert decode_frames([], size=8).shape == (0, 8, 8, 3)


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
    from rldg_data.stats.accumulators import StatsAccumulator
    acc = StatsAccumulator().add_arrays({"action": x, "proprio": x})
    stats = acc.to_dict()
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


def test_per_dataset_normalization_uses_each_datasets_own_statistics(tmp_path):
    """In an OXE-like mix the robots' units differ: each dataset is normalized with its own
    statistics (as Octo does), so both come out centred; one set over the mix centres neither."""
    lossless = spec.DatasetSpec(image_size=16, image_encoding="png")
    small = [e.replace({spec.ACTION: np.clip(e.actions * 0.1 + 0.05, -1, 1)}) for e in make_episodes(10, seed=1)]
    large = [e.replace({spec.ACTION: np.clip(e.actions * 0.5 - 0.4, -1, 1)}) for e in make_episodes(10, seed=2)]
    paths = [write_dataset(small, tmp_path, "small_units", lossless),
             write_dataset(large, tmp_path, "large_units", lossless)]

    def means(per_dataset):
        config = LoaderConfig(batch_size=4, shuffle=False, repeat=False, per_dataset_normalization=per_dataset)
        loader = RLDSLoader(paths, config)
        by_dataset = {0: [], 1: []}
        for ep in loader.episodes():
            by_dataset[ep.dataset].append(ep.action[:, :-1])
        return [float(np.abs(np.concatenate(by_dataset[d]).mean())) for d in (0, 1)]

    assert max(means(True)) < 0.05
    assert min(means(False)) > 0.3


def test_a_mix_of_different_sizes_and_cameras_is_padded_and_masked_as_octo_does(tmp_path):
    """An OXE-like mix: a 4-D-action dataset with a wrist camera beside a 6-D one without. Refused
    without pad_to_largest; with it, actions and states are zero-padded to the largest, the real
    action dimensions are marked, and the missing camera comes as black frames marked False
    (Octo's max_action_dim / max_proprio_dim and camera pad_mask_dict)."""
    lossless = spec.DatasetSpec(image_size=16, image_encoding="png")
    small = write_dataset(make_episodes(6, seed=1, wrist=True), tmp_path, "four_d",
                          dataclasses.replace(lossless, wrist=True))
    large = write_dataset(make_episodes(6, seed=2, state_dim=5, action_dim=6), tmp_path, "six_d",
                          dataclasses.replace(lossless, state_dim=5, action_dim=6))
    base = dict(batch_size=8, shuffle=False, repeat=False, wrist=True, image_size=16)
    with pytest.raises(RldgError, match="pad_to_largest"):
        RLDSLoader([small, large], LoaderConfig(**base, per_dataset_normalization=True))
    with pytest.raises(RldgError, match="per_dataset_normalization"):
        RLDSLoader([small, large], LoaderConfig(**base, pad_to_largest=True))
    loader = RLDSLoader([small, large], LoaderConfig(**base, pad_to_largest=True, per_dataset_normalization=True))
    assert loader.statistics is None and loader.normalizer is None
    assert (loader.state_dim, loader.action_dim) == (5, 6)
    batches = list(loader)
    batch = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    assert batch["action"].shape[1:] == (4, 6) and batch["state"].shape[2:] == (5,)
    four = batch["dataset_index"] == 0
    assert four.any() and (~four).any()
    assert (batch["action_dim_mask"][four] == [True] * 4 + [False] * 2).all()
    assert batch["action_dim_mask"][~four].all()
    assert (batch["action"][four][..., 4:] == 0).all() and (batch["state"][four][..., 4:] == 0).all()
    assert batch["wrist_pad_mask"][four].all() and not batch["wrist_pad_mask"][~four].any()
    assert (batch["wrist_image"][~four] == 0).all() and batch["wrist_image"][four].any()
    # the real dimensions are normalized with each dataset's own statistics, as without padding
    alone = RLDSLoader(large, LoaderConfig(batch_size=8, shuffle=False, repeat=False))
    expect = np.concatenate([b["action"] for b in alone])
    np.testing.assert_allclose(batch["action"][~four], expect, atol=1e-6)
