"""The mapping files shipped for three Open X-Embodiment layouts (builders/rlds_import/mappings/)
import synthetic datasets with exactly those datasets' features: each imported action equals its
parts concatenated in order, each part mapped by its own bounds (and inverted where the gripper's
sense is the other way round); the state likewise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from builders.rlds_import.rlds_import_dataset_builder import Builder as RldsImport
from builders.rlds_import.rlds_import_dataset_builder import RldsImportConfig
from rldg_data.contract import spec
from rldg_data.errors import ContractError
from rldg_data.io.reader import read_episodes
from rldg_data.validation.validate import validate_dataset
from tests.builders import oxe_layouts

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "builders" / "rlds_import" / "mappings"


def _expected(name: str, steps: dict) -> tuple[np.ndarray, np.ndarray]:
    """The contract action and state of raw OXE steps, written out by hand for each layout."""
    a, o = steps["action"], steps["observation"]
    n = len(a["world_vector"])
    if name == "fractal":
        action = [a["world_vector"], a["rotation_delta"] / (np.pi / 2), -a["gripper_closedness_action"]]
        state = [o["base_pose_tool_reached"], o["gripper_closed"]]
    elif name == "bridge":
        action = [a["world_vector"] / 0.05, a["rotation_delta"] / 0.25, 2.0 * a["open_gripper"][:, None] - 1.0]
        state = [o["state"]]
    else:
        action = [a["world_vector"], a["rotation_delta"], -a["gripper_closedness_action"][:, None]]
        state = [o["joint_states"], o["gripper_states"]]
    action = np.clip(np.concatenate([np.reshape(x, (n, -1)) for x in action], axis=1), -1, 1)
    return action, np.concatenate(state, axis=1)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("oxe_layouts")
    return {name: oxe_layouts.build(cls, root) for name, cls in oxe_layouts.LAYOUTS.items()}


@pytest.mark.parametrize("name", sorted(oxe_layouts.LAYOUTS))
def test_shipped_mapping_imports_dict_actions_as_concatenated_parts(sources, name, tmp_path):
    config = RldsImportConfig(name=name, mapping=str(MAPPINGS / f"{name}.yaml"), dataset=sources[name])
    builder = RldsImport(config=config, data_dir=str(tmp_path))
    builder.download_and_prepare()
    built = Path(builder.data_dir)
    assert validate_dataset(built).ok
    episodes = read_episodes(built)
    assert len(episodes) == oxe_layouts.NUM_EPISODES
    for episode in episodes:
        i = oxe_layouts.episode_of_length(episode.metadata.length)  # TFDS reads them in its own order
        action, state = _expected(name, oxe_layouts.raw_episode(oxe_layouts.LAYOUTS[name], i)["steps"])
        assert episode.steps[spec.ACTION].shape == (len(action), 7)
        np.testing.assert_allclose(episode.steps[spec.ACTION], action, atol=1e-6, err_msg=f"{name} episode {i}")
        np.testing.assert_allclose(episode.steps[spec.STATE], state, atol=1e-6)
        assert episode.steps[spec.IMAGE].shape[1:] == (128, 128, 3)
        assert episode.steps[spec.LANGUAGE_INSTRUCTION][1] == "pick the block 1"
        assert (spec.WRIST_IMAGE in episode.steps) == (name == "viola")


def test_fractal_mapping_under_tfds_build(sources, tmp_path):
    """The user's command: the shipped mapping, the dataset's folder given in --config."""
    config = json.dumps({"name": "fractal", "mapping": "builders/rlds_import/mappings/fractal.yaml",
                         "dataset": sources["fractal"]})
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    res = subprocess.run([str(Path(sys.executable).parent / "tfds"), "build", "builders/rlds_import",
                          "--data_dir", str(tmp_path), "--config", config], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    built = tmp_path / "rlds_import" / "fractal" / "1.0.0"
    assert validate_dataset(built).ok
    assert {e.metadata.task for e in read_episodes(built)} == {"fractal"}


def test_a_part_that_is_not_a_feature_is_named(sources, tmp_path):
    text = (MAPPINGS / "fractal.yaml").read_text().replace("steps/action/rotation_delta", "steps/action/rotation")
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(text)
    config = RldsImportConfig(name="bad", mapping=str(mapping), dataset=sources["fractal"])
    with pytest.raises(ContractError) as err:
        RldsImport(config=config, data_dir=str(tmp_path)).download_and_prepare()
    assert str(mapping) in str(err.value) and "'action[1]'" in str(err.value)
    assert "steps/action/rotation_delta" in str(err.value)  # the fields there are


def test_part_bounds_that_do_not_fit_the_key_are_refused(sources, tmp_path):
    text = (MAPPINGS / "fractal.yaml").read_text().replace("low: -1.5707963, high: 1.5707963",
                                                           "low: [-1, -1], high: [1, 1]")
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(text)
    config = RldsImportConfig(name="bad", mapping=str(mapping), dataset=sources["fractal"])
    with pytest.raises(ContractError) as err:
        RldsImport(config=config, data_dir=str(tmp_path)).download_and_prepare()
    assert "'action[1].low'" in str(err.value) and "3 dimension" in str(err.value)
