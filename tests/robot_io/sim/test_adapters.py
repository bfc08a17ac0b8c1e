"""dm_env (envlogger's interface) and gymnasium over the same core."""

from __future__ import annotations

import dm_env
import numpy as np

import robot_io


def test_dm_env_episode_ends_with_termination_on_success():
    env = robot_io.DmEnv(robot_io.make("pick_place", "red_cylinder", image_size=32))
    expert = robot_io.make_demonstrator("expert", env)
    ts = env.reset(seed=0)
    assert ts.first() and set(env.observation_spec()) == {"image", "state", "privileged_state"}
    spec = env.action_spec()
    assert spec.shape == (4,) and spec.minimum == -1 and spec.maximum == 1
    steps = 0
    while not ts.last():
        ts = env.step(expert.act(ts.observation))
        steps += 1
        for k, s in env.observation_spec().items():
            s.validate(ts.observation[k])
    env.close()
    assert ts.step_type == dm_env.StepType.LAST and ts.discount == 0.0 and ts.reward == 1.0
    assert env.last_info["success"] and steps < 250


def test_dm_env_truncation_keeps_discount_one():
    env = robot_io.DmEnv(robot_io.make("insertion", "vga", render=False))
    ts = env.reset(seed=0)
    while not ts.last():
        ts = env.step(np.zeros(4, np.float32))
    env.close()
    assert ts.discount == 1.0 and not env.last_info["success"]


def test_gymnasium_env_checks_and_steps():
    from gymnasium.utils.env_checker import check_env

    env = robot_io.GymEnv(robot_io.make("assembly", "round_nut", image_size=32))
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info["stage"] == 0
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    env.close()
