"""trainers.octo_launch: the export Octo's make_single_dataset and finetune.py read as it is."""

from __future__ import annotations

import importlib
import json
import sys

import numpy as np
import pytest

from rldg_data.cli import main
from rldg_data.errors import UnavailableError
from rldg_data.validation.validate import validate_dataset
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes
from rldg_data.exports.octo import STANDARDIZE_SPEC, export_octo
from trainers.octo_launch import launch_octo

# make_single_dataset's dataset_kwargs (octo/data/dataset.py make_dataset_from_rlds). Octo's own code
# reads these exports in tests/interop; these tests keep the unit-level facts.
OCTO_KWARGS = {"name", "data_dir", "image_obs_keys", "proprio_obs_key", "language_key",
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
    # a ModuleSpec (Octo >= 1.5 instantiates it); no depth keys (all-None depth breaks Octo's training)
    assert kwargs["standardize_fn"] == STANDARDIZE_SPEC == {"module": "rldg_octo_standardize",
                                                            "name": "standardize", "args": [], "kwargs": {}}
    assert "depth_obs_keys" not in kwargs
    assert kwargs["name"] == "octo_src:1.0.0" and kwargs["data_dir"] == str(dataset.parent.parent.resolve())
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


def test_standardize_fn_loads_from_its_module_spec_and_maps_the_gripper(export, monkeypatch):
    import tensorflow as tf

    _, out = export
    monkeypatch.syspath_prepend(str(out))
    module, name = STANDARDIZE_SPEC["module"], STANDARDIZE_SPEC["name"]
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
    # 4-D actions: the pretrained 7-D action head is rebuilt with 4 outputs (README says how)
    assert config["update_config"] == {"model": {"heads": {"action": {"kwargs": {"action_dim": 4}}}}}


def test_readme_gives_install_check_and_launch_commands_and_the_head(export):
    _, out = export
    readme = (out / "README.md").read_text()
    for needed in ("git clone https://github.com/octo-models/octo", "pip install -e .",
                   "make_single_dataset(kwargs, train=True", "scripts/finetune.py --config=",
                   f"PYTHONPATH={out.resolve()}", "action_dim=4", "max_action_dim", "before 1.5",
                   "kwargs[\"standardize_fn\"] = rldg_octo_standardize.standardize", ":legacy"):
        assert needed in readme, needed


def test_builder_config_datasets_are_named_builder_slash_config(tmp_path):
    """A dataset at DATA/<builder>/<config>/<version> (tfds build --config) is "<builder>/<config>"
    under DATA, and tfds.builder finds it by that name."""
    import tensorflow_datasets as tfds

    from rldg_data.io.reader import open_dataset
    from rldg_data.exports.common import tfds_location

    folder = write_dataset(make_episodes(3, seed=4, image_size=16), tmp_path / "data" / "mixer", "custom")
    info_path = folder / "dataset_info.json"
    info = json.loads(info_path.read_text())
    # what TFDS writes for a builder config: the builder's name and the config's name
    info_path.write_text(json.dumps({**info, "name": "mixer", "configName": "custom"}))
    for shard in folder.glob("custom-*"):
        shard.rename(shard.with_name(shard.name.replace("custom-", "mixer-", 1)))
    name, data_dir = tfds_location(open_dataset(folder))
    assert (name, data_dir) == ("mixer/custom:1.0.0", (tmp_path / "data").resolve())
    builder = tfds.builder(name, data_dir=str(data_dir))
    assert builder.info.splits["train"].num_examples == 3


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
    assert "README.md" in capsys.readouterr().out


def _other_robot_dataset(root):
    """A real TFDS dataset that is not a contract dataset (no state, language, metadata)."""
    import tensorflow_datasets as tfds

    features = tfds.features.FeaturesDict({"steps": tfds.features.Dataset({
        "observation": {"image": tfds.features.Image(shape=(8, 8, 3))},
        "action": tfds.features.Tensor(shape=(7,), dtype=np.float32)})})
    episode = {"steps": [{"observation": {"image": np.zeros((8, 8, 3), np.uint8)},
                          "action": np.zeros(7, np.float32)}] * 3}
    builder = tfds.dataset_builders.store_as_tfds_dataset(
        name="other_robot", version="1.0.0", features=features,
        split_datasets={"train": [(0, episode), (1, episode)]}, data_dir=str(root))
    return builder.data_dir


@pytest.mark.parametrize("target", ["octo", "openvla"])
def test_cli_refuses_a_dataset_that_is_not_a_contract_dataset(target, tmp_path, capsys, caplog):
    """`rldg finetune octo|openvla OTHER` exits non-zero with an error naming the file; no export, no warning."""
    other = _other_robot_dataset(tmp_path / "data")
    out = tmp_path / "export"
    assert main(["finetune", target, str(other), "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "not a contract dataset" in err and "features.json" in err and "Traceback" not in err
    assert not out.exists() and not [r for r in caplog.records if r.name.startswith("rldg") and r.levelno >= 30]


def test_export_refuses_a_contract_dataset_with_violations(tmp_path):
    from rldg_data.errors import ContractError

    dataset = write_dataset(make_episodes(3, seed=5, image_size=16), tmp_path / "data", "broken")
    shard = next(dataset.glob("broken-train.tfrecord-*"))
    shard.write_bytes(shard.read_bytes()[:-40])  # a truncated shard
    with pytest.raises(ContractError, match="not a valid contract dataset"):
        export_octo(dataset, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("steps, warmup, log, save", [(2, 1, 1, 2), (50, 5, 5, 50), (5000, 500, 100, 5000),
                                                      (12000, 1200, 100, 4000), (7919, 791, 100, 1)])
def test_schedule_leaves_warmup_logs_and_saves_the_last_step(steps, warmup, log, save):
    from rldg_data.exports.octo import schedule

    plan = schedule(steps)
    assert (plan["warmup_steps"], plan["log_interval"], plan["save_interval"]) == (warmup, log, save)
    assert steps % plan["save_interval"] == 0


def test_pretrained_and_image_sizes_reach_the_config(export, tmp_path):
    dataset, _ = export
    with pytest.raises(UnavailableError, match="no Octo checkpoint there"):
        export_octo(dataset, tmp_path / "bad", pretrained=str(tmp_path))
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    out = export_octo(dataset, tmp_path / "out", pretrained=str(tmp_path / "ckpt"), primary_size=64,
                      wrist_size=32, steps=50)
    config = json.loads((out / "octo_finetune_config.json").read_text())
    assert config["pretrained_path"] == str((tmp_path / "ckpt").resolve())
    assert config["frame_transform_kwargs"]["resize_size"] == {"primary": [64, 64], "wrist": [32, 32]}
    stats = json.loads((out / "dataset_statistics.json").read_text())
    assert config["shuffle_buffer_size"] == stats["num_transitions"] < 10000
    assert config["optimizer"]["learning_rate"]["warmup_steps"] == 5 and config["save_interval"] == 50


def test_unstandardize_inverts_the_gripper_map():
    from rldg_data.exports.octo_layout import unstandardize_action

    unit = np.array([[0.3, -0.2, 0.1, 1.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(unstandardize_action(unit)[:, -1], [1.0, -1.0])
    np.testing.assert_allclose(unstandardize_action(unit)[:, :3], unit[:, :3])
