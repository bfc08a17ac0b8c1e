"""OpenVLA's own RLDS pipeline (openvla/openvla c8f03f4, in .venv-interop) reads our OpenVLA exports of
every kind of dataset the toolkit writes: registration as the export writes it,
`make_oxe_dataset_kwargs(..., BOUNDS_Q99)`, `make_single_dataset`, every trajectory; 7-D actions
with zero rotation and OpenVLA's gripper convention (absolute, [0, 1], 1 = open, not normalized).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rldg_data.contract import spec
from tests.interop.expected import episodes_by_split, match, moments, tfds_val_count, transitions, unit_gripper

KINDS = ("rldg_mix_wrist", "rldg_rollouts", "rldg_mix_cli", "written")


def _bounds_q99(actions: np.ndarray, stats: dict) -> np.ndarray:
    """OpenVLA's BOUNDS_Q99 normalization (prismatic/vla/datasets/rlds/utils/data_utils.py), in numpy."""
    q01, q99 = np.array(stats["q01"]), np.array(stats["q99"])
    out = np.where(stats["mask"], np.clip(2 * (actions - q01) / (q99 - q01 + 1e-8) - 1, -1, 1), actions)
    return np.where(np.array(stats["min"]) == np.array(stats["max"]), 0.0, out)


def _exported(export) -> tuple[str, dict]:
    config = json.loads((export / "openvla_dataset_config.json").read_text())
    return config["name"], episodes_by_split(export / "data" / config["name"] / "1.0.0")


@pytest.mark.parametrize("kind", KINDS)
def test_every_trajectory_7d_with_openvlas_gripper_convention(kind, openvla_results, openvla_exports, datasets):
    result = openvla_results[kind]
    name, episodes = _exported(openvla_exports[kind])
    assert result["kwargs"]["name"] == name and result["kwargs"]["image_obs_keys"] == {"primary": "image"}
    assert result["kwargs"]["absolute_action_mask"] == [False] * 6 + [True]
    assert result["kwargs"]["action_normalization_mask"] == [True] * 6 + [False]
    source = episodes_by_split(datasets[kind])
    assert {s: len(e) for s, e in episodes.items()} == {s: len(e) for s, e in source.items()}  # splits kept
    stats = result["stats"]["action"]
    want = {split: {ep.episode_id: _bounds_q99(unit_gripper(ep.steps[spec.ACTION]), stats) for ep in eps}
            for split, eps in episodes.items()}
    current = lambda trajs: [np.array(t["action"]) for t in trajs]  # noqa: E731
    if "val" in episodes:
        assert len(result["train"]) == len(episodes["train"]) and len(result["val"]) == len(episodes["val"]) > 0
        matched = {**match(current(result["train"]), want["train"])}
        match(current(result["val"]), want["val"])
    else:
        n = len(episodes["train"])
        assert len(result["val"]) == tfds_val_count(n) and len(result["train"]) == n - len(result["val"])
        # TFDS refuses an empty train[95%:]: what the README warns of (fine-tuning itself reads train only)
        assert ("val_error" in result) == (tfds_val_count(n) == 0)
        if tfds_val_count(n) == 0:
            assert "corresponds to no data" in result["val_error"]
            assert "That is empty: TFDS refuses it" in (openvla_exports[kind] / "README.md").read_text()
        matched = match(current(result["train"] + result["val"]), want["train"])
    by_id = {ep.episode_id: ep for eps in source.values() for ep in eps}
    for i, traj in enumerate(result["train"]):
        action = np.array(traj["action"])
        assert action.shape[1] == 7 and np.all(action[:, 3:6] == 0)  # zero rotation
        original = by_id[matched[i]].steps[spec.ACTION]  # the source's 4-D xyz + gripper (+1 open)
        np.testing.assert_allclose(action[:, 6], (original[:, 3] + 1) / 2, atol=1e-6)  # absolute, not normalized
        assert np.all((action[:, 6] >= 0) & (action[:, 6] <= 1)) and np.all(np.abs(action[:, :3]) <= 1)
        assert traj["image"] == [len(action), 1, 224, 224, 3]
        language = by_id[matched[i]].steps[spec.LANGUAGE_INSTRUCTION][0]
        assert traj["language"] == (language.decode() if isinstance(language, bytes) else str(language))


@pytest.mark.parametrize("kind", KINDS)
def test_statistics_ours_and_openvlas_agree_with_numpy(kind, openvla_results, openvla_exports):
    name, episodes = _exported(openvla_exports[kind])
    theirs = openvla_results[kind]["stats"]
    everything = [ep for eps in episodes.values() for ep in eps]
    assert theirs["num_trajectories"] == len(everything)
    mean, std = moments(everything, theirs["num_transitions"])  # OpenVLA: all splits
    np.testing.assert_allclose(theirs["action"]["mean"], mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(theirs["action"]["std"], std, rtol=1e-5, atol=1e-6)
    ours = json.loads((openvla_exports[kind] / "dataset_statistics.json").read_text())[name]
    assert ours["action"]["mask"] == [True] * 6 + [False]
    mean, std = moments(episodes["train"], ours["num_transitions"])  # ours: the train split
    np.testing.assert_allclose(ours["action"]["mean"], mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["action"]["std"], std, rtol=1e-5, atol=1e-6)
    values = transitions(episodes["train"], ours["num_transitions"])
    for key, q in (("q01", 0.01), ("q99", 0.99)):  # a 0.2%-relative sketch vs numpy's interpolation
        spread = values.max(0) - values.min(0)
        assert np.all(np.abs(np.array(ours["action"][key]) - np.quantile(values, q, axis=0)) <= 0.02 * spread + 1e-6), key
