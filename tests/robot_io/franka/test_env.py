"""FrankaEnv (HIL-SERL's conventions) against the simulator server: the 10 Hz loop, the safety
box, refused actions, the gripper's minimum interval, resets, and the dm_env observation."""

from __future__ import annotations

import numpy as np
import pytest

import robot_io.franka as franka
from robot_io.franka.dm import RobotDmEnv
from robot_io.franka.env import FrankaEnv
from robot_io.sim.server import spawned


@pytest.fixture(scope="module")
def url():
    with spawned("insertion", "vga") as (u, _):
        yield u


def make(url, **overrides):
    cfg, client = franka.resolve_config(url, overrides)
    return FrankaEnv(cfg, client)


def test_steps_keep_10_hz_and_move_by_the_scaled_delta(url):
    env = make(url)
    obs = env.reset(seed=0)
    assert set(obs["state"]) == {"tcp_pose", "tcp_vel", "gripper_pose", "tcp_force", "tcp_torque"}
    assert obs["images"]["main"].shape == (64, 64, 3)
    x0 = obs["state"]["tcp_pose"][0]
    for _ in range(10):
        obs, reward, terminated, truncated, info = env.step([1, 0, 0, 0, 0, 0, 1])
    moved = obs["state"]["tcp_pose"][0] - x0
    assert 0.06 < moved < 0.11  # 10 steps of at most 1 cm (the impedance controller lags a little)
    s = env.stats.summary()
    # overruns are counted, not bounded here: a loaded shared machine stalls the loop now and then
    assert s["steps"] == 10 and abs(s["period_p50_ms"] - 100) < 5 and 0 <= s["overruns"] <= 10
    assert info["success"] is False and info["stage"] == 0
    env.close()


def test_nan_action_is_refused_and_nothing_is_sent(url):
    env = make(url)
    env.reset(seed=1)
    before = env.client.requests
    pose = env.state.pose.copy()
    env.step([np.nan, 0, 0, 0, 0, 0, 1])
    assert env.stats.refused == 1
    assert env.client.requests - before == 2  # /getstate and /camera only: no /clearerr, no /pose
    assert np.linalg.norm(env.state.pose[:3] - pose[:3]) < 0.003
    with pytest.raises(Exception, match="7 numbers"):
        env.step([0, 0, 0, 1])
    env.close()


def test_targets_outside_the_safety_box_are_clipped(url):
    cfg, _ = franka.resolve_config(url)
    high = list(cfg.abs_pose_limit_high)
    high[0] = cfg.reset_pose[0] + 0.03  # a box 3 cm wide in +x
    env = make(url, abs_pose_limit_high=high)
    env.reset(seed=2)
    for _ in range(8):
        env.step([1, 0, 0, 0, 0, 0, 1])
    assert env.stats.clipped >= 4
    assert env.state.pose[0] <= high[0] + 0.004
    env.close()


def test_gripper_commands_keep_their_minimum_interval(url):
    env = make(url, gripper_interval_s=0.5)
    env.reset(seed=3)
    for i in range(12):  # asks to flip every step for 1.2 s
        env.step([0, 0, 0, 0, 0, 0, -1 if i % 2 == 0 else 1])
    assert 1 <= env.stats.gripper_commands <= 3
    env.close()


def test_random_reset_offsets_the_reset_pose_within_its_range(url):
    env = make(url, random_reset=True, random_xy_range=0.03, reset_move_s=0.5)
    poses = [env.reset(seed=s)["state"]["tcp_pose"][:2] for s in (10, 11)]
    home = np.asarray(env.config.reset_pose[:2])
    for p in poses:
        assert np.all(np.abs(p - home) < 0.03 + 0.006)
    assert np.linalg.norm(poses[0] - poses[1]) > 0.002
    env.close()


def test_dm_env_observation_is_the_contracts(url):
    env = make(url)
    dm = RobotDmEnv(env)
    dm.seed(4)
    ts = dm.reset()
    assert ts.first()
    assert set(ts.observation) == {"image", "state", "privileged_state"}
    assert ts.observation["state"].shape == (20,) and ts.observation["state"].dtype == np.float32
    assert dm.observation_spec()["state"].shape == (20,) and dm.action_spec().shape == (7,)
    ts = dm.step(np.zeros(7, np.float32))
    assert ts.mid() and dm.last_info["stage"] == 0
    dm.close()
