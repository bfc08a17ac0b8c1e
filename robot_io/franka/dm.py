"""`RobotDmEnv`: a `FrankaEnv` as a `dm_env.Environment` with the RLDS contract's flat observation.

Observation: `image` (first camera), `wrist_image` (second camera, if any), `state` (float32 [20]:
tcp_pose, tcp_vel, gripper_pose, tcp_force, tcp_torque in that order) and, from our simulator
only, `privileged_state` (float32 [17], what state-based specialists act on). Discount 0 on
success, truncation at `max_episode_steps`. `seed(s)` makes the next reset use seed `s` (the
simulator's object positions; the random reset offset on a robot). `last_info` holds the last
step's {success, stage}, which the recorder logs.
"""

from __future__ import annotations

from typing import Any, Optional

import dm_env
import numpy as np
from dm_env import specs

from robot_io.franka.config import STATE_DIM, STATE_KEYS
from robot_io.franka.env import FrankaEnv


def flat_state(state: dict) -> np.ndarray:
    return np.concatenate([np.asarray(state[k], np.float32).reshape(-1) for k in STATE_KEYS]).astype(np.float32)


class RobotDmEnv(dm_env.Environment):
    def __init__(self, env: FrankaEnv, start_stage: int = 0) -> None:
        self.env = env
        self.start_stage = int(start_stage)
        self.last_info: dict[str, Any] = {"success": False, "stage": self.start_stage}
        self._next_seed: Optional[int] = None
        self._privileged_dim: Optional[int] = None
        names = [c.name for c in env.cameras]
        self._image_keys = {names[0]: "image", **({names[1]: "wrist_image"} if len(names) > 1 else {})}

    def seed(self, seed: int) -> None:
        self._next_seed = int(seed)

    def _obs(self, raw: dict) -> dict[str, np.ndarray]:
        obs = {key: raw["images"][name] for name, key in self._image_keys.items()}
        obs["state"] = flat_state(raw["state"])
        priv = self.env.privileged_state
        if priv is not None:
            obs["privileged_state"] = priv
        return obs

    def reset(self) -> dm_env.TimeStep:
        seed, self._next_seed = self._next_seed, None
        raw = self.env.reset(seed=seed, start_stage=self.start_stage)
        self.last_info = {"success": False, "stage": self.env.info.get("stage", self.start_stage)}
        return dm_env.restart(self._obs(raw))

    def step(self, action) -> dm_env.TimeStep:
        raw, reward, terminated, truncated, info = self.env.step(action)
        self.last_info = info
        obs = self._obs(raw)
        if terminated:
            return dm_env.termination(reward=np.float32(reward), observation=obs)
        if truncated:
            return dm_env.truncation(reward=np.float32(reward), observation=obs)
        return dm_env.transition(reward=np.float32(reward), observation=obs)

    def observation_spec(self):
        size = self.env.config.image_size
        out = {key: specs.Array((size, size, 3), np.uint8, name=key) for key in self._image_keys.values()}
        out["state"] = specs.Array((STATE_DIM,), np.float32, name="state")
        priv = self.env.privileged_state
        if priv is not None:
            out["privileged_state"] = specs.Array(priv.shape, np.float32, name="privileged_state")
        return out

    def action_spec(self):
        return specs.BoundedArray((7,), np.float32, -1.0, 1.0, name="action")

    def reward_spec(self):
        return specs.Array((), np.float32, name="reward")

    def discount_spec(self):
        return specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount")

    def close(self) -> None:
        self.env.close()
