"""trainers.openvla: the export meets OpenVLA's rules or refuses clearly."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
import types

import numpy as np
import pytest

from rldg_data.errors import ContractError, UnavailableError
from rldg_data.io.reader import read_episodes
from rldg_data.validation.validate import validate_dataset
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes
from rldg_data.exports.openvla import PROMPT, export_openvla
from trainers.openvla import launch_openvla

STATS = {"mean", "std", "max", "min", "q01", "q99", "mask"}
CONFIG = {"image_obs_keys", "depth_obs_keys", "state_obs_keys", "state_encoding", "action_encoding"}
FINETUNE_FLAGS = {"--vla_path", "--data_root_dir", "--dataset_name", "--run_root_dir", "--adapter_tmp_dir",
                  "--lora_rank", "--batch_size", "--grad_accumulation_steps", "--learning_rate",
                  "--image_aug", "--wandb_project", "--save_steps"}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("vla")
    source = write_dataset(make_episodes(4, seed=2, image_size=16, wrist=True), root / "data", "vla_src")
    return source, export_openvla(source, root / "export")


def test_exported_dataset_is_7d_224px_and_still_valid(export):
    source, out = export
    name = "vla_src_openvla"
    path = out / "data" / name / "1.0.0"
    assert validate_dataset(path).ok
    original = read_episodes(source)
    exported = read_episodes(path)
    ep, src = exported[0], original[0]
    assert ep.actions.shape[1] == 7 and ep.steps["observation/image"].shape[1:] == (224, 224, 3)
    np.testing.assert_array_equal(ep.actions[:, 3:6], 0)
    np.testing.assert_allclose(ep.actions[:, [0, 1, 2, 6]], src.actions, atol=1e-6)
    assert "zero rotation" in (out / "README.md").read_text()


def test_statistics_have_q01_q99_and_mask_and_constant_dims(export):
    _, out = export
    stats = json.loads((out / "dataset_statistics.json").read_text())["vla_src_openvla"]
    assert set(stats["action"]) == STATS and set(stats["proprio"]) == STATS
    assert stats["action"]["mask"] == [True] * 6 + [False]
    assert all(len(stats["action"][k]) == 7 for k in STATS)
    assert stats["action"]["min"][3:6] == stats["action"]["max"][3:6] == [0.0, 0.0, 0.0]
    assert stats["num_trajectories"] == 4 and stats["num_transitions"] > 0


def test_registration_registers_config_transform_and_mixture(export, monkeypatch):
    """Runs the generated file against stand-ins for OpenVLA's three registries."""
    _, out = export
    config = json.loads((out / "openvla_dataset_config.json").read_text())
    assert set(config["config"]) == CONFIG and config["prompt"] == PROMPT
    assert config["config"]["image_obs_keys"]["primary"] == "image" and config["normalization_type"] == "BOUNDS_Q99"
    regs = {"configs": types.ModuleType("c"), "mixtures": types.ModuleType("m"), "transforms": types.ModuleType("t")}
    regs["configs"].OXE_DATASET_CONFIGS = {}
    regs["configs"].ActionEncoding = enum.Enum("ActionEncoding", "EEF_POS JOINT_POS JOINT_POS_BIMANUAL EEF_R6")
    regs["configs"].StateEncoding = enum.Enum("StateEncoding", "NONE POS_EULER POS_QUAT JOINT JOINT_BIMANUAL")
    regs["mixtures"].OXE_NAMED_MIXTURES = {}
    regs["transforms"].OXE_STANDARDIZATION_TRANSFORMS = {}
    for part, module in regs.items():
        monkeypatch.setitem(sys.modules, f"prismatic.vla.datasets.rlds.oxe.{part}", module)
    scope: dict = {}
    exec(compile((out / "openvla_registration.py").read_text(), "openvla_registration.py", "exec"), scope)
    entry = regs["configs"].OXE_DATASET_CONFIGS["vla_src_openvla"]
    assert entry["action_encoding"].name == "EEF_POS" and entry["image_obs_keys"]["wrist"] == "wrist_image"
    assert regs["mixtures"].OXE_NAMED_MIXTURES["vla_src_openvla"] == [("vla_src_openvla", 1.0)]
    import tensorflow as tf
    fn = regs["transforms"].OXE_STANDARDIZATION_TRANSFORMS["vla_src_openvla"]
    act = fn({"action": tf.constant([[0.1, 0, 0, 0, 0, 0, -1.0]])})["action"].numpy()
    assert act[0, -1] == 0.0
    args = json.loads((out / "openvla_finetune_args.json").read_text())
    assert FINETUNE_FLAGS == {a for a in args if a.startswith("--")}


def test_wrist_camera_can_be_primary_and_bad_actions_are_refused(export, tmp_path):
    source, _ = export
    out = export_openvla(source, tmp_path / "wrist", camera="wrist")
    config = json.loads((out / "openvla_dataset_config.json").read_text())["config"]
    assert config["image_obs_keys"] == {"primary": "wrist_image", "secondary": None, "wrist": None}
    five = write_dataset(make_episodes(2, seed=3, image_size=16, action_dim=5), tmp_path, "five")
    with pytest.raises(ContractError, match="5-D actions"):
        export_openvla(five, tmp_path / "five_out")
    assert not (tmp_path / "five_out").exists()


def test_val_split_is_kept_and_readme_launches_from_the_openvla_clone(tmp_path):
    """The copy keeps train and val (OpenVLA validates on val); the README's launch line runs
    vla-scripts/finetune.py from a named OpenVLA folder under torchrun, without a fake W&B entity."""
    episodes = make_episodes(5, seed=6, image_size=16)
    source = write_dataset({"train": episodes[:3], "val": episodes[3:]}, tmp_path / "data", "split_src")
    out = export_openvla(source, tmp_path / "export", openvla_repo=str(tmp_path / "openvla"))
    exported = out / "data" / "split_src_openvla" / "1.0.0"
    assert {ep.episode_id for ep in read_episodes(exported, "val")} == {e.episode_id for e in episodes[3:]}
    assert {ep.episode_id for ep in read_episodes(exported, "train")} == {e.episode_id for e in episodes[:3]}
    stats = json.loads((out / "dataset_statistics.json").read_text())["split_src_openvla"]
    assert stats["num_trajectories"] == 3  # statistics of the train split
    readme = (out / "README.md").read_text()
    assert f"cd {(tmp_path / 'openvla').resolve()}\n" in readme
    assert "torchrun --standalone --nnodes 1 --nproc-per-node 1" in readme and "vla-scripts/finetune.py" in readme
    assert "--wandb_entity none" not in readme and "WANDB_MODE=offline" in readme
    assert "val 2" in readme and "train 3" in readme


def test_launch_without_an_openvla_environment_says_how(export):
    _, out = export
    with pytest.raises(UnavailableError, match="openvla-python"):
        launch_openvla(out, None)
    with pytest.raises(UnavailableError, match="cannot import prismatic"):
        launch_openvla(out, sys.executable)


def test_readme_has_a_check_that_openvla_reads_the_data(tmp_path):
    """Issue 33: as Octo's README has; the step makes the calls tests/interop/openvla_check.py runs
    with OpenVLA's own code, on this export's name and folder, and compiles as Python."""
    import re

    source = write_dataset(make_episodes(3, seed=2, image_size=16), tmp_path / "data", "chk_src")
    out = export_openvla(source, tmp_path / "export")
    readme = (out / "README.md").read_text()
    assert "## Check that OpenVLA reads the data" in readme
    code = re.search(r"## Check that OpenVLA reads the data.*?```python\n(.*?)```", readme, re.S).group(1)
    compile(code, "README check step", "exec")
    assert f'make_oxe_dataset_kwargs("chk_src_openvla", "{out.resolve()}/data"' in code
    assert f'sys.path.insert(0, "{out.resolve()}")' in code
    checker = (Path(__file__).resolve().parents[2] / "interop" / "openvla_check.py").read_text()
    for call in ("make_single_dataset(", "make_oxe_dataset_kwargs(", "NormalizationType.BOUNDS_Q99",
                 "window_size=1, future_action_window_size=0"):
        assert call in code and call in checker, call
    assert "import openvla_registration" in code


def test_export_holds_the_preflight_and_takes_a_local_model(tmp_path):
    """`--vla-path` reaches finetune.py's arguments; openvla_preflight.py (run by `rldg finetune openvla
    --openvla-python` before torchrun; exercised against OpenVLA's source in
    tests/interop/test_openvla_launch.py) is written beside the launcher and is valid Python."""
    source = write_dataset(make_episodes(2, seed=4, image_size=16), tmp_path / "data", "pre_src")
    out = export_openvla(source, tmp_path / "export", vla_path="/models/openvla-7b")
    args = json.loads((out / "openvla_finetune_args.json").read_text())
    assert args[args.index("--vla_path") + 1] == "/models/openvla-7b"
    code = (out / "openvla_preflight.py").read_text()
    compile(code, "openvla_preflight.py", "exec")
    assert "import openvla_registration" in code and "get_oxe_dataset_kwargs_and_weights(" in code
    assert "openvla_preflight.py" in (out / "README.md").read_text()
