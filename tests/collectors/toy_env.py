"""A tiny staged dm_env task for collector tests (test fixture, numpy only, no MuJoCo).

A point in the unit square visits `num_stages` waypoints in order; `last_info` carries the
`success`/`stage` a robot_io adapter reports. Its demonstrator walks to the next waypoint. The real
suite (robot_io) is exercised by the end-to-end tests; this one keeps unit tests to milliseconds.
"""

from __future__ import annotations

import dm_env
import numpy as np
from dm_env import specs

WAYPOINTS = np.array([[0.8, 0.2], [0.8, 0.8], [0.2, 0.8]], np.float32)


class StagedReach(dm_env.Environment):
    def __init__(self, image_size: int = 16, num_stages: int = 3, max_steps: int = 40, seed: int = 0):
        self.image_size, self.num_stages, self.max_steps = image_size, num_stages, max_steps
        self.bottleneck_stage = 1
        self._rng = np.random.default_rng(seed)
        self.last_info = {"success": False, "stage": 0}
        self.language_instruction = "visit the waypoints"

    def seed(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def _obs(self):
        img = np.zeros((self.image_size, self.image_size, 3), np.uint8)
        i, j = (np.clip(self.pos, 0, 0.999) * self.image_size).astype(int)
        img[i, j] = 255
        state = np.array([*self.pos, 0.0, 1.0], np.float32)
        return {"image": img, "state": state, "privileged_state": WAYPOINTS[min(self.stage, 2)].copy()}

    def reset(self):
        self.pos = self._rng.uniform(0.0, 0.3, 2).astype(np.float32)
        self.stage, self.t = 0, 0
        self.last_info = {"success": False, "stage": 0}
        return dm_env.restart(self._obs())

    def step(self, action):
        self.t += 1
        self.pos = np.clip(self.pos + 0.1 * np.asarray(action[:2], np.float32), 0, 1)
        if np.linalg.norm(self.pos - WAYPOINTS[self.stage]) < 0.08:
            self.stage += 1
        success = self.stage >= self.num_stages
        self.stage = min(self.stage, self.num_stages - 1)
        self.last_info = {"success": success, "stage": self.stage}
        if success:
            return dm_env.termination(1.0, self._obs())
        if self.t >= self.max_steps:
            return dm_env.truncation(0.0, self._obs())
        return dm_env.transition(0.0, self._obs())

    def observation_spec(self):
        hw = (self.image_size, self.image_size, 3)
        return {"image": specs.Array(hw, np.uint8), "state": specs.Array((4,), np.float32),
                "privileged_state": specs.Array((2,), np.float32)}

    def action_spec(self):
        return specs.BoundedArray((4,), np.float32, -1.0, 1.0)


class WaypointDemonstrator:
    """Walks to the waypoint of the current stage (read from privileged_state)."""

    def __init__(self, source: str = "scripted", policy_id: str = "toy-expert", noise: float = 0.0):
        self.source, self.policy_id, self.noise = source, policy_id, noise
        self._rng = np.random.default_rng(0)

    def reset(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def act(self, obs):
        delta = obs["privileged_state"] - obs["state"][:2]
        move = np.clip(delta / 0.1, -1, 1) + self._rng.normal(0, self.noise, 2)
        return np.clip(np.array([*move, 0.0, 1.0], np.float32), -1, 1)


class WrongWay:
    """A policy that always errs (moves away), so an intervening demonstrator must take over."""

    policy_id = "toy-wrong"
    source = "rl"

    def reset(self, seed=None):
        pass

    def act(self, obs):
        return np.array([-1.0, -1.0, 0.0, 1.0], np.float32)


def make_env(task: str, variant: str, image_size: int = 16, wrist: bool = False, seed: int = 0):
    """Env factory in the `collectors` factory signature."""
    return StagedReach(image_size=image_size, seed=seed)


def make_policy(kind: str, env, seed: int = 0):
    """Policy factory in the `collectors` factory signature: expert | human | rl (noisy expert)."""
    if kind == "human":
        return WaypointDemonstrator("human", "toy-human", noise=0.3)
    if kind == "rl":
        return WaypointDemonstrator("rl", "toy-rl-ckpt", noise=0.1)
    return WaypointDemonstrator()


class SlowStagedReach(StagedReach):
    """StagedReach taking ~10 ms a step (like a rendered MuJoCo step), for kill-timing tests."""

    def step(self, action):
        import time

        time.sleep(0.01)
        return super().step(action)


def make_slow_env(task: str, variant: str, image_size: int = 16, wrist: bool = False, seed: int = 0):
    return SlowStagedReach(image_size=image_size, seed=seed)


class _Labelled:
    """Wraps a demonstrator as a stand-in RL checkpoint (test fixture): optional action noise,
    source `rl`, its own policy id."""

    source = "rl"

    def __init__(self, inner, policy_id: str, noise: float = 0.0, wrong_way: bool = False):
        self.inner, self.policy_id, self.noise, self.wrong_way = inner, policy_id, noise, wrong_way
        self._rng = np.random.default_rng(0)

    def reset(self, seed=None):
        self.inner.reset(seed)
        self._rng = np.random.default_rng(seed)

    def act(self, obs):
        action = np.asarray(self.inner.act(obs), np.float32).copy()
        if self.wrong_way:
            action[:3] = -np.sign(action[:3] + 1e-3)
        action[:3] += self._rng.normal(0, self.noise, 3).astype(np.float32)
        return np.clip(action, -1, 1)


def robot_rl_policy(env, seed: int = 0):
    """robot_io's scripted expert with a little noise, labelled as an `rl` checkpoint."""
    import robot_io

    return _Labelled(robot_io.make_demonstrator("expert", env, seed=seed), "test-rl-ckpt", noise=0.05)


def robot_erring_policy(env, seed: int = 0):
    """A policy that moves away from the expert's choice, so interventions must happen."""
    import robot_io

    return _Labelled(robot_io.make_demonstrator("expert", env, seed=seed), "test-erring-ckpt", wrong_way=True)


def toy_rl_policy(env, seed: int = 0):
    return _Labelled(WaypointDemonstrator(), "toy-rl-ckpt", noise=0.05)


def toy_erring_policy(env, seed: int = 0):
    return _Labelled(WaypointDemonstrator(), "toy-erring-ckpt", wrong_way=True)
