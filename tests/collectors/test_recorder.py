"""Recording one episode into an envlogger log and reading it back as an RLDS contract episode."""

from __future__ import annotations

import numpy as np
import pytest

from collectors.actors import HandOffActor, SingleActor
from collectors.logs import episode_logs, read_episode
from collectors.recorder import EpisodeHeader, record_episode
from rldg_data.contract.check import validate_episode
from rldg_data.errors import DatasetError
from tests.collectors.toy_env import StagedReach, WaypointDemonstrator


def _header(i=0, policy_id="p"):
    return EpisodeHeader(f"toy/a/{policy_id}/seed{i}", "toy", "a", "unseen", policy_id, i, "visit")


def test_round_trip_is_rlds_aligned_and_contract_valid(tmp_path):
    env = StagedReach()
    actor = HandOffActor(WaypointDemonstrator("human", "h"), WaypointDemonstrator("rl", "r"), 1)
    out = record_episode(env, actor, tmp_path, "ep-000000", _header(3, actor.policy_id), lambda e: e.last_info)
    episode = validate_episode(read_episode(out.path))
    n = len(episode)
    assert n == out.length and out.success and episode.metadata.success
    assert episode.metadata.seed == 3 and episode.metadata.split == "unseen"
    # step t: observation t and the action chosen on it; the last step: final obs, zero action
    assert np.all(episode.steps["action"][-1] == 0) and np.any(episode.steps["action"][0] != 0)
    assert list(episode.sources[:-1]) == list(out.sources)
    assert episode.steps["reward"][-2] == 1.0 and episode.steps["reward"].sum() == 1.0
    assert episode.steps["is_terminal"][-1] and not episode.steps["is_terminal"][:-1].any()
    stages = episode.steps["stage"]
    assert stages[0] == 0 and stages[-1] == 2 and np.all(np.diff(stages) >= 0)
    # hand-off: human while stage 0, rl from the first step observed in stage 1
    first_rl = int(np.argmax(episode.sources == "rl"))
    assert set(episode.sources[:first_rl]) == {"human"} and set(episode.sources[first_rl:]) == {"rl"}
    assert stages[first_rl] == 1 and stages[first_rl - 1] == 0
    assert episode.steps["observation/privileged_state"].shape == (n, 2)
    assert str(episode.steps["language_instruction"][0]) == "visit"


def test_time_limit_is_not_terminal(tmp_path):
    env = StagedReach(max_steps=5)
    out = record_episode(env, SingleActor(WaypointDemonstrator("human", "h", noise=0.0)), tmp_path, "ep",
                         _header(), lambda e: e.last_info)
    episode = validate_episode(read_episode(out.path))
    assert len(episode) == 6 and not out.success and not episode.steps["is_terminal"].any()


def test_same_seed_same_episode(tmp_path):
    env = StagedReach()
    actor = SingleActor(WaypointDemonstrator("human", "h", noise=0.3))
    a = record_episode(env, actor, tmp_path, "a", _header(7), lambda e: e.last_info)
    b = record_episode(env, actor, tmp_path, "b", _header(7), lambda e: e.last_info)
    np.testing.assert_array_equal(read_episode(a.path).actions, read_episode(b.path).actions)


def test_failed_episode_leaves_no_log(tmp_path):
    class Broken(WaypointDemonstrator):
        def act(self, obs):
            raise RuntimeError("policy crashed")

    with pytest.raises(RuntimeError):
        record_episode(StagedReach(), SingleActor(Broken()), tmp_path, "ep-000000", _header(),
                       lambda e: e.last_info)
    assert episode_logs([tmp_path]) == []


def test_missing_log_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        episode_logs([tmp_path / "nope"])
