"""Octo's own `make_single_dataset` (octo-models/octo 241fb35 + dlimp ad72ce3, under Octo's pins in
.venv-interop) reads our Octo exports as written: every trajectory, normalized with our statistics.

Datasets: `tfds build builders/rldg_mix --config custom` with a wrist camera and a val split,
`tfds build builders/rldg_rollouts` (train split only: Octo takes train[95%:] for validation), and
`rldg mix` (see conftest.py). The three export defects of issue 17 each made these fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rldg_data.contract import spec
from tests.interop.conftest import RESIZE
from tests.interop.expected import episodes_by_split, match, moments, tfds_val_count, unit_gripper
from rldg_data.exports.octo import STANDARDIZE_SPEC

KINDS = ("rldg_mix_wrist", "rldg_rollouts", "rldg_mix_cli")
WINDOW, HORIZON = 2, 4


def _load(export: Path) -> tuple[dict, dict]:
    kwargs = json.loads((export / "octo_dataset_kwargs.json").read_text())
    stats = json.loads((export / "dataset_statistics.json").read_text())
    return kwargs, stats


def _normalized(episode, stats: dict, mask: list) -> np.ndarray:
    mean, std = np.array(stats["action"]["mean"]), np.array(stats["action"]["std"])
    actions = unit_gripper(episode.steps[spec.ACTION])
    return np.where(mask, (actions - mean) / (std + 1e-8), actions)


def test_builder_config_dataset_is_named_builder_slash_config(octo_exports, datasets):
    kwargs, _ = _load(octo_exports["rldg_mix_wrist"])
    version = datasets["rldg_mix_wrist"]
    assert kwargs["name"] == f"rldg_mix/{version.parent.name}:1.0.0"
    assert Path(kwargs["data_dir"]) == version.parent.parent.parent.resolve()
    assert "depth_obs_keys" not in kwargs and kwargs["standardize_fn"] == STANDARDIZE_SPEC


@pytest.mark.parametrize("kind", KINDS)
def test_every_trajectory_with_actions_normalized_by_our_statistics(kind, octo_results, octo_exports, datasets):
    kwargs, stats = _load(octo_exports[kind])
    result, mask = octo_results[kind], kwargs["action_normalization_mask"]
    # Octo normalized with the statistics file we wrote (and the mask we gave)
    np.testing.assert_allclose(result["stats"]["mean"], stats["action"]["mean"], rtol=1e-6)
    np.testing.assert_allclose(result["stats"]["std"], stats["action"]["std"], rtol=1e-6)
    assert result["stats"]["mask"] == mask == [True, True, True, False]
    episodes = episodes_by_split(datasets[kind])
    current = lambda trajs: [np.array(t["action"])[:, -1, 0] for t in trajs]  # noqa: E731
    want = {split: {ep.episode_id: _normalized(ep, stats, mask) for ep in eps} for split, eps in episodes.items()}
    if "val" in episodes:  # Octo reads our val split for train=False
        assert len(result["train"]) == len(episodes["train"]) and len(result["val"]) == len(episodes["val"]) > 0
        match(current(result["train"]), want["train"])
        match(current(result["val"]), want["val"])
    else:  # train[:95%] and train[95%:]: together every episode once
        n = len(episodes["train"])
        assert len(result["val"]) == tfds_val_count(n) > 0 and len(result["train"]) == n - len(result["val"])
        match(current(result["train"] + result["val"]), want["train"])
    # our statistics are the numpy moments of the train split's standardized actions
    mean, std = moments(episodes["train"], stats["num_transitions"])
    np.testing.assert_allclose(stats["action"]["mean"], mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(stats["action"]["std"], std, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
def test_windows_chunks_images_proprio_and_language(kind, octo_results, octo_exports, datasets):
    kwargs, stats = _load(octo_exports[kind])
    result = octo_results[kind]
    episodes = {ep.episode_id: ep for eps in episodes_by_split(datasets[kind]).values() for ep in eps}
    wrist = kwargs["image_obs_keys"]["wrist"] is not None
    assert wrist == (kind == "rldg_mix_wrist")
    trajectories = result["train"] + result["val"]
    matched = match([np.array(t["action"])[:, -1, 0] for t in trajectories],
                    {eid: _normalized(ep, stats, kwargs["action_normalization_mask"]) for eid, ep in episodes.items()})
    pmean, pstd = np.array(stats["proprio"]["mean"]), np.array(stats["proprio"]["std"])
    for i, traj in enumerate(trajectories):
        episode = episodes[matched[i]]
        action = np.array(traj["action"])
        T = len(action)
        assert action.shape == (T, WINDOW, HORIZON, 4)
        for h in range(HORIZON):  # the chunk: current + future actions, the last repeated at the end
            np.testing.assert_allclose(action[:, -1, h], action[np.minimum(np.arange(T) + h, T - 1), -1, 0])
        np.testing.assert_allclose(action[1:, 0], action[:-1, -1])  # the window: the previous step
        assert traj["timestep_pad_mask"][0] == [False, True] and all(r == [True, True] for r in traj["timestep_pad_mask"][1:])
        for key in kwargs["image_obs_keys"]:
            shape, dtype, peak = traj["images"][f"image_{key}"]
            assert shape == [T, WINDOW, *RESIZE, 3] and dtype == "uint8"
        assert traj["pad_mask_dict"]["image_primary"] and traj["images"]["image_primary"][2] > 0
        assert traj["pad_mask_dict"]["image_wrist"] == wrist and (traj["images"]["image_wrist"][2] > 0) == wrist
        np.testing.assert_allclose(traj["proprio"], (episode.steps[spec.STATE] - pmean) / (pstd + 1e-8), atol=1e-4)
        language = episode.steps[spec.LANGUAGE_INSTRUCTION][0]
        assert traj["language"] == (language.decode() if isinstance(language, bytes) else str(language))
        assert traj["dataset_name"] == kwargs["name"]


@pytest.mark.parametrize("kind", KINDS)
def test_exported_finetune_config_builds_and_its_dataset_kwargs_instantiate(kind, octo_results, octo_exports):
    config = octo_results[kind]["finetune_config"]
    export = octo_exports[kind].resolve()
    assert config["type"] == "ConfigDict" and config["takes_module_spec"]
    assert config["first_action_shape"][1:] == [WINDOW, HORIZON, 4]  # finetune.py's make_single_dataset call
    assert config["standardize_fn"] == STANDARDIZE_SPEC
    assert config["resize_size"] == {"primary": [256, 256], "wrist": [128, 128]}
    # finetune.py's config.update(update_config): the pretrained 7-D head becomes 4-D, the rest stays
    assert config["head_kwargs"]["action_dim"] == 4 and config["head_kwargs"]["action_horizon"] == HORIZON
    assert config["head_kwargs"]["readout_key"] == "readout_action"
    # Octo before 1.5 loaded standardize_fn from "path/to/file.py:function"
    path, name = config["legacy_standardize_fn"].rsplit(":", 1)
    assert Path(path) == export / "rldg_octo_standardize.py" and Path(path).is_file() and name == "standardize"
