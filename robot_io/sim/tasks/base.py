"""What a task family gives the simulator core: its scene, its randomisation, its success test.

`SimEnv` (robot_io.sim.env) owns MuJoCo stepping, the mocap arm control and rendering; a `Task`
holds only what differs between task families. One `Task` instance belongs to one environment
(it caches model ids after `bind`).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from robot_io.sim.variants import VariantInfo

if TYPE_CHECKING:  # MuJoCo only in annotations: `robot_io.TASKS` and the variant table load without it
    import mujoco

SimEnv = Any  # a robot_io.sim.env.SimEnv (which imports this module), as tasks see it

PRIVILEGED_DIM = 17
"""privileged_state layout, the same for every task:
[0:3] hand xyz, [3] gripper opening, [4:7] object grasp point, [7:11] object quaternion (w,x,y,z),
[11:14] goal point (hole entrance / place goal / peg top), [14:17] task point (peg tip / object
centre / nut ring centre)."""


class Task(abc.ABC):
    """A task family; subclasses fill the class constants and the abstract methods."""

    name: str = ""
    num_stages: int = 1
    bottleneck_stage: int = 0
    stage_names: tuple[str, ...] = ()  # multi-stage: what finishing each stage means ("grasped", ...)
    max_episode_steps: int = 200
    hand_init = np.array([0.0, 0.6, 0.2])
    mocap_low = np.array([-0.5, 0.40, 0.05])
    mocap_high = np.array([0.5, 1.0, 0.5])
    camera_pos = (0.6, 0.15, 0.55)
    camera_target = (-0.05, 0.65, 0.05)
    camera_fovy = 50.0

    def __init__(self, info: VariantInfo) -> None:
        self.info = info
        self.params = dict(info.params)

    @abc.abstractmethod
    def build_spec(self) -> mujoco.MjSpec:
        """The edited scene of this variant (cameras are added by the core)."""

    @abc.abstractmethod
    def bind(self, model: mujoco.MjModel) -> None:
        """Caches ids of the compiled model."""

    @abc.abstractmethod
    def randomize(self, sim: "SimEnv", rng: np.random.Generator) -> None:
        """Places objects and goal for a new episode (the hand is already at its start pose)."""

    @abc.abstractmethod
    def evaluate(self, sim: "SimEnv") -> tuple[bool, int]:
        """(strict success, current stage) of the current state."""

    @abc.abstractmethod
    def privileged(self, sim: "SimEnv") -> np.ndarray:
        """The 17-d privileged state (see PRIVILEGED_DIM)."""

    def reset_stage(self) -> None:
        """Called at each reset, before randomize; multi-stage tasks clear their latch here."""


def free_joint_qpos(model: mujoco.MjModel, joint: str) -> slice:
    """Slice of `qpos` (7 values: xyz + quaternion) of a free joint."""
    adr = int(model.joint(joint).qposadr[0])
    return slice(adr, adr + 7)


def free_joint_qvel(model: mujoco.MjModel, joint: str) -> slice:
    adr = int(model.joint(joint).dofadr[0])
    return slice(adr, adr + 6)
