"""trainers.octo: the export Octo's make_single_dataset and finetune.py read as it is."""

from __future__ import annotations

import importlib
import json
import sys

import numpy as np
import pytest

from rldg_data.cli import main
from rldg_data.errors import UnavailableError
from rldg_data.contract.validate import validate_dataset
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes
from trainers.octo import STANDARDIZE_FN, export_octo, launch_octo

# make_single_dataset's dataset_kwargs (octo/data/dataset.py make_dataset_from_rlds).
OCTO_KWARGS = {"name", "data_dir", "image_obs_keys", "depth_obs_keys", "proprio_obs_key", "language_key",
               "action_proprio_normalization_type", "action_normalization_mask", "dataset_statistics",
               "standardize_fn", "skip_norm", "filter_functions", "num_parallel_reads", "num_parallel_calls"}
OCTO_STATS = {"mean", "std", "min", "max", "p01", "p99"}
FINETUNE_KEYS = {"pretrained_path", "batch_size", "num_steps", "save_dir", "dataset_kwargs", "window_size",
                 "optimizer", "traj_transform_kwargs", "frame_transform_kwargs", "finetuning_mode", "modality"}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("octo")
    dataset = write_dataset(make_episodes(6, seed=1, image_size=16, wrist=True), root / "data", "octo_src")
    return dataset, export_octo(dataset, root / "export")


def test_dataset_kwargs_have_octos_keys_and_resolve_like_octo(export):
    import tensorflow_datasets as tfds

    dataset, out = export
    kwargs = json.loads((out / "octo_dataset_kwargs.json").read_text())
    assert set(kwargs) == OCTO_KWARGS
    assert kwargs["image_obs_keys"] == {"primary": "image", "wrist": "wrist_image"}
    assert kwargs["proprio_obs_key"] == "state" and kwargs["language_key"] == "language_instruction"
    assert kwargs["action_normalization_mask"] == [True, True, True, False]
    assert kwargs["standardize_fn"] == STANDARDIZE_FN and ":" in kwargs["standardize_fn"]
    # Octo opens the dataset with tfds.builder(name, data_dir=...): it must find ours.
    builder = tfds.builder(kwargs["name"], data_dir=kwargs["data_dir"])
    steps = next(iter(builder.as_dataset(split="train")))["steps"]
    step = next(iter(steps))
    for old in kwargs["image_obs_keys"].values():
        assert old in step["observation"]
    assert kwargs["proprio_obs_key"] in step["observation"] and kwargs["language_key"] in step
    assert validate_dataset(dataset).ok


def test_statistics_file_has_octos_keys_and_shapes(export):
    _, out = export
    stats = json.loads((out / "dataset_statistics.json").read_text())
    assert set(stats) == {"action", "proprio", "num_transitions", "num_trajectories"}
    for key in ("action", "proprio"):
        assert set(stats[key]) == OCTO_STATS and all(len(v) == 4 for v in stats[key].values())
    assert stats["num_trajectories"] == 6
    assert 0 <= stats["action"]["min"][-1] <= stats["action"]["max"][-1] <= 1  # gripper in [0, 1]


def test_standardize_fn_loads_from_its_string_and_maps_the_gripper(export, monkeypatch):
    import tensorflow as tf

    _, out = export
    monkeypatch.syspath_prepend(str(out))
    module, name = STANDARDIZE_FN.split(":")
    fn = getattr(importlib.import_module(module), name)
    traj = {"action": tf.constant([[0.5, 0, 0, 1.0], [0, 0, 0, -1.0]]), "observation": {}}
    np.testing.assert_allclose(fn(traj)["action"].numpy()[:, -1], [1.0, 0.0])
    sys.modules.pop(module, None)


def test_finetune_config_follows_octos_conventions(export):
    _, out = export
    config = json.loads((out / "octo_finetune_config.json").read_text())
    assert FINETUNE_KEYS <= set(config)
    assert config["traj_transform_kwargs"]["action_horizon"] == 4
    assert config["frame_transform_kwargs"]["resize_size"] == {"primary": [256, 256], "wrist": [128, 128]}
    compile((out / "octo_finetune_config.py").read_text(), "octo_finetune_config.py", "exec")


def test_launch_without_an_octo_environment_says_how_to_make_one(export):
    _, out = export
    with pytest.raises(UnavailableError, match="octo-python"):
        launch_octo(out, None)
    with pytest.raises(UnavailableError, match="cannot import octo"):
        launch_octo(out, sys.executable)


def test_cli_writes_the_export(export, tmp_path, capsys):
    dataset, _ = export
    assert main(["finetune", "octo", str(dataset), "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "octo_dataset_kwargs.json").is_file()
