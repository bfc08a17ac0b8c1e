"""dm_env and gymnasium interfaces over one `SimEnv` (envlogger records the dm_env one).

Both are thin: they translate reset/step conventions and declare specs/spaces; the physics, the
observation dict and the success test stay in `SimEnv`.
"""

from __future__ import annotations

from typing import Any

import dm_env
import gymnasium
import numpy as np
from dm_env import specs

from robot_io.sim.env import SimEnv


def _obs_shapes(env: SimEnv) -> dict[str, tuple[tuple[int, ...], Any]]:
    shapes: dict[str, tuple[tuple[int, ...], Any]] = {
        "state": ((env.state_dim,), np.float32),
        "privileged_state": ((env.privileged_dim,), np.float32),
    }
    if env.render_images:
        shapes["image"] = ((env.image_size, env.image_size, 3), np.uint8)
        if env.wrist:
            shapes["wrist_image"] = ((env.image_size, env.image_size, 3), np.uint8)
    return shapes


class DmEnv(dm_env.Environment):
    """`dm_env.Environment` over a SimEnv: discount 0 on termination (success), 1 on truncation.

    `last_info` holds the SimEnv info of the latest step ({"success", "stage"}); `reset(seed=...,
    start_stage=...)` passes through to SimEnv.
    """

    def __init__(self, sim_env: SimEnv) -> None:
        self.sim = sim_env
        self.last_info: dict[str, Any] = {"success": False, "stage": 0}

    def reset(self, seed: int | None = None, start_stage: int = 0) -> dm_env.TimeStep:
        obs = self.sim.reset(seed=seed, start_stage=start_stage)
        self.last_info = {"success": False, "stage": self.sim.stage}
        return dm_env.restart(obs)

    def step(self, action) -> dm_env.TimeStep:
        obs, reward, terminated, truncated, info = self.sim.step(action)
        self.last_info = info
        if terminated:
            return dm_env.termination(reward=np.float32(reward), observation=obs)
        if truncated:
            return dm_env.truncation(reward=np.float32(reward), observation=obs)
        return dm_env.transition(reward=np.float32(reward), observation=obs)

    def observation_spec(self):
        return {k: specs.Array(shape, dtype, name=k) for k, (shape, dtype) in _obs_shapes(self.sim).items()}

    def action_spec(self):
        return specs.BoundedArray((self.sim.action_dim,), np.float32, -1.0, 1.0, name="action")

    def reward_spec(self):
        return specs.Array((), np.float32, name="reward")

    def discount_spec(self):
        return specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount")

    def close(self) -> None:
        self.sim.close()


class GymEnv(gymnasium.Env):
    """`gymnasium.Env` over a SimEnv; `reset(options={"start_stage": k})` for hand-off starts."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, sim_env: SimEnv) -> None:
        self.sim = sim_env
        self.render_mode = "rgb_array"
        spaces = {}
        for k, (shape, dtype) in _obs_shapes(sim_env).items():
            if dtype == np.uint8:
                spaces[k] = gymnasium.spaces.Box(0, 255, shape, np.uint8)
            else:
                spaces[k] = gymnasium.spaces.Box(-np.inf, np.inf, shape, np.float32)
        self.observation_space = gymnasium.spaces.Dict(spaces)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (sim_env.action_dim,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        start_stage = int((options or {}).get("start_stage", 0))
        obs = self.sim.reset(seed=seed, start_stage=start_stage)
        return obs, {"success": False, "stage": self.sim.stage}

    def step(self, action):
        return self.sim.step(action)

    def render(self):
        return self.sim.render()

    def close(self) -> None:
        self.sim.close()
