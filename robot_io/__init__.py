"""robot_io: environments and demonstrators the collectors record from.

The embedded simulated task suite (MuJoCo / Meta-World: connector insertion, pick-and-place,
multi-stage assembly) with seen/unseen variants, dm_env and gymnasium interfaces, scripted experts,
a human-proxy demonstrator, and teleoperation device interfaces for real robots.

    env = robot_io.make("insertion", "vga")          # a SimEnv; robot_io.variants("insertion", "unseen")
    obs = env.reset(seed=0)                          # {"image", "state", "privileged_state"}
    expert = robot_io.make_demonstrator("expert", env)
    obs, reward, terminated, truncated, info = env.step(expert.act(obs))   # info: success, stage
    dm = robot_io.DmEnv(env)                         # for envlogger; robot_io.GymEnv(env) for gymnasium

Two rooms: `robot_io.sim` (the simulated suite and its bundled robot server) and the real robot's
(`robot_io.franka`: client, config and env over the robot server; `robot_io.cameras`;
`robot_io.teleop`). The sim imports the hardware room's protocol where it serves it; the hardware
room never imports the sim.

Actions: end-effector delta xyz + gripper in [-1, 1] (+1 opens). State: hand xyz + gripper opening.
Heavy modules (MuJoCo, dm_env, gymnasium) load on first use of these names.
"""

from __future__ import annotations

import os

# Headless by default: without a display MuJoCo would try GLFW and fail at the first rendered
# frame. EGL renders offscreen on the CPU; MUJOCO_GL=osmesa overrides.
if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
    os.environ["MUJOCO_GL"] = "egl"

from robot_io.sim.registry import TASKS, make, variant_info, variants
from robot_io.sim.tasks.base import PRIVILEGED_DIM
from robot_io.sim.variants import VariantInfo

__all__ = ["TASKS", "make", "variants", "variant_info", "VariantInfo", "PRIVILEGED_DIM",
           "SimEnv", "DmEnv", "GymEnv", "make_demonstrator", "HumanProxy", "HumanProxyConfig"]

_LAZY = {
    "SimEnv": "robot_io.sim.env",
    "DmEnv": "robot_io.sim.adapters",
    "GymEnv": "robot_io.sim.adapters",
    "make_demonstrator": "robot_io.sim.demonstrators",
    "HumanProxy": "robot_io.sim.human_proxy",
    "HumanProxyConfig": "robot_io.sim.human_proxy",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'robot_io' has no attribute {name!r}")
