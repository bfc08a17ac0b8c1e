"""`rldg import hil-serl`: HIL-SERL pickles (written here) become valid contract datasets."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from rldg_data.contract.check import validate_episode
from rldg_data.contract import spec
from rldg_data.cli import main as rldg
from rldg_data.errors import ContractError, UnsafeInputError
from rldg_data.io.reader import read_episodes
from rldg_data.imports.hil_serl import (ImportOptions, absolute_gripper, episode_from_transitions, import_hil_serl,
                               split_episodes)


def _obs(rng, t):
    return {"state": rng.normal(size=(1, 7)).astype(np.float32),
            "wrist_1": np.full((1, 32, 32, 3), t % 255, np.uint8),
            "side": np.full((1, 32, 32, 3), 255 - t % 255, np.uint8)}


def hil_serl_transitions(lengths, grip_commands=None, intervene_at=(), success=True, seed=0, trailing=0):
    """A flat transition list as HIL-SERL's record_demos.py / buffers write it."""
    rng = np.random.default_rng(seed)
    out, t = [], 0
    for n in list(lengths) + ([trailing] if trailing else []):
        obs = _obs(rng, t)
        complete = len(out) < sum(lengths)
        for i in range(n):
            nxt = _obs(rng, t + 1)
            action = rng.uniform(-0.5, 0.5, 7).astype(np.float32)
            action[-1] = grip_commands[i] if grip_commands is not None else 0.0
            done = complete and i == n - 1
            infos = {}
            if (len(out)) in intervene_at:
                infos["intervene_action"] = np.array([0.9, 0, 0, 0, 0, 0, -1.0], np.float32)
            out.append({"observations": obs, "actions": action, "next_observations": nxt,
                        "rewards": float(done and success), "masks": 1.0 - float(done and success),
                        "dones": done, "infos": infos})
            obs, t = nxt, t + 1
    return out


def write_pickle(path, transitions):
    with open(path, "wb") as f:
        pickle.dump(transitions, f)
    return path


def test_relative_gripper_becomes_absolute_starting_open():
    relative = np.array([0, 0, -1, 0, 0, 1, 0, -0.9, 0.2], np.float32)
    assert absolute_gripper(relative).tolist() == [1, 1, -1, -1, -1, 1, 1, -1, -1]


def test_episodes_split_at_dones_and_trailing_partial_episode_is_reported():
    transitions = hil_serl_transitions([3, 5], trailing=2)
    episodes, leftover = split_episodes(transitions)
    assert [len(e) for e in episodes] == [3, 5]
    assert leftover == 2


def test_episode_converted_to_contract_with_interventions_marked():
    transitions = hil_serl_transitions([4], grip_commands=[0, -1, 0, 1], intervene_at=(1,))
    episode = episode_from_transitions(transitions, "e0", ImportOptions(instruction="insert", wrist=True))
    validate_episode(episode)
    assert len(episode) == 5  # 4 transitions + the final observation
    assert episode.steps[spec.STATE].shape == (5, 7)  # history axis dropped
    assert episode.steps[spec.IMAGE].shape == (5, 32, 32, 3)
    assert episode.steps[spec.IMAGE][0, 0, 0, 0] == 0 and episode.steps[spec.WRIST_IMAGE][0, 0, 0, 0] == 255
    assert episode.sources.tolist() == ["rl", "intervention", "rl", "rl", "rl"]
    np.testing.assert_allclose(episode.actions[1, :-1], [0.9, 0, 0, 0, 0, 0])  # the human's action
    # gripper: hold (open), intervention closes, hold (closed), open; final step zero action
    assert episode.actions[:, -1].tolist() == [1, -1, -1, 1, 0]
    assert episode.steps[spec.IS_TERMINAL][-1] and episode.metadata.success
    np.testing.assert_array_equal(episode.steps[spec.STATE][-1],
                                  transitions[-1]["next_observations"]["state"][0])


def test_import_refuses_pickles_without_trust_and_says_why(tmp_path):
    path = write_pickle(tmp_path / "demo.pkl", hil_serl_transitions([3]))
    with pytest.raises(UnsafeInputError, match="arbitrary code.*--trust-pickle"):
        import_hil_serl([path], tmp_path / "out", ImportOptions())
    assert not (tmp_path / "out").exists()
    assert rldg(["import", "hil-serl", str(path), "--out", str(tmp_path / "out")]) == 2


def test_cli_imports_demo_and_buffer_pickles_into_one_valid_dataset(tmp_path):
    demo = write_pickle(tmp_path / "demos.pkl", hil_serl_transitions([3, 4], seed=1))
    buffer = write_pickle(tmp_path / "buffer.pkl", hil_serl_transitions([5], intervene_at=(2,), seed=2,
                                                                        trailing=3))
    status = rldg(["import", "hil-serl", str(demo), str(buffer), "--out", str(tmp_path / "out"),
                   "--trust-pickle", "--source", "human", "--instruction", "insert the usb",
                   "--task", "insertion", "--variant", "usb"])
    assert status == 0
    episodes = read_episodes(tmp_path / "out" / "hil_serl")
    assert [len(e) for e in episodes] == [4, 5, 6]
    assert len({e.episode_id for e in episodes}) == 3
    assert set(episodes[0].sources) == {"human"}
    assert "intervention" in set(episodes[2].sources)
    assert episodes[0].steps[spec.LANGUAGE_INSTRUCTION][0] == "insert the usb"
    assert episodes[1].metadata.variant == "usb"


def test_bad_transition_names_file_and_step(tmp_path):
    transitions = hil_serl_transitions([3])
    del transitions[1]["masks"]
    path = write_pickle(tmp_path / "broken.pkl", transitions)
    with pytest.raises(ContractError) as err:
        import_hil_serl([path], tmp_path / "out", ImportOptions(), trust_pickle=True)
    assert "broken.pkl" in str(err.value) and "step 1" in str(err.value) and "masks" in str(err.value)
