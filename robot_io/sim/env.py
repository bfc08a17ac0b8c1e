"""The one simulator core every interface wraps: MuJoCo stepping, mocap arm control, rendering.

The arm is Meta-World's Sawyer driven through its mocap body: an action is an end-effector delta
(x, y, z in [-1, 1], scaled to at most 1 cm per step) plus a gripper command in [-1, 1] where +1
opens (Meta-World's own sign is the opposite). Images are rendered only when `render=True`, with
one reused `mujoco.Renderer` that `close()` frees.
"""

from __future__ import annotations

import logging
from typing import Any

import mujoco
import numpy as np

from robot_io.sim import meshes, scene
from rldg_data.errors import RldgError
from robot_io.sim.experts import make_expert
from robot_io.sim.tasks.base import PRIVILEGED_DIM, Task

log = logging.getLogger(__name__)

ACTION_SCALE = 0.01  # metres of mocap motion per unit action per step
FRAME_SKIP = 5       # physics steps (2.5 ms) per control step: 12.5 ms, 80 Hz
CONTROL_HZ = 80      # recorded steps per second (1 / (FRAME_SKIP * 2.5 ms)); collect.json's rate_hz
HAND_SETTLE_STEPS = 50


class SimEnv:
    """One task variant in simulation. See robot_io's package docstring for the API."""

    state_dim = 4
    action_dim = 4
    privileged_dim = PRIVILEGED_DIM

    def __init__(self, task: Task, *, image_size: int = 64, wrist: bool = False,
                 render: bool = True, seed: int | None = None) -> None:
        self._task = task
        info = task.info
        self.task, self.variant, self.split = info.task, info.variant, info.split
        self.language_instruction = info.language_instruction
        self.max_episode_steps = task.max_episode_steps
        self.num_stages, self.bottleneck_stage = task.num_stages, task.bottleneck_stage
        self.stage_names = tuple(task.stage_names)
        self.image_size, self.wrist, self.render_images = int(image_size), bool(wrist), bool(render)

        spec = task.build_spec()
        scene.add_cameras(spec, task.camera_pos, task.camera_target, task.camera_fovy)
        meshes.lighten_render_meshes(spec)  # the arm in a few hundred faces a link: 3-4x faster frames
        self.model = spec.compile()
        scene.fast_render_settings(self.model, self.image_size)
        scene.reset_mocap_welds(self.model)
        self.data = mujoco.MjData(self.model)
        task.bind(self.model)
        self._hand_id = self.model.body("hand").id
        self._right_claw = self.model.body("rightclaw").id
        self._left_claw = self.model.body("leftclaw").id
        self._tcp_sites = (self.model.site("rightEndEffector").id, self.model.site("leftEndEffector").id)
        self._cam_main = self.model.camera(scene.MAIN_CAMERA).id
        self._cam_wrist = self.model.camera(scene.WRIST_CAMERA).id
        self._renderer: mujoco.Renderer | None = None
        self._rng = np.random.default_rng(seed)
        self._home = self._settle_hand()
        self._t = 0
        self._stage = 0

    # ---- physics -------------------------------------------------------------------------
    def _settle_hand(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Moves the arm to the task's start pose once; resets restore this state (saves time)."""
        mujoco.mj_resetData(self.model, self.data)
        for _ in range(HAND_SETTLE_STEPS):
            self.data.mocap_pos[0] = self._task.hand_init
            self.data.mocap_quat[0] = scene.HAND_QUAT
            self.data.ctrl[:] = [-1.0, 1.0]
            mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        return self.data.qpos.copy(), self.data.qvel.copy(), self.data.mocap_pos.copy()

    def _restore_home(self) -> None:
        qpos, qvel, mocap = self._home
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        self.data.mocap_pos[:] = mocap
        self.data.mocap_quat[0] = scene.HAND_QUAT
        self.data.ctrl[:] = [-1.0, 1.0]

    def reset(self, seed: int | None = None, start_stage: int = 0) -> dict[str, np.ndarray]:
        """Starts an episode with freshly randomised object and goal positions.

        `start_stage > 0` (multi-stage tasks) returns the hand-off state at the start of that stage,
        reached by the scripted expert from the same seeded start; the step counter restarts at 0.
        """
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if not 0 <= start_stage < self.num_stages:
            raise RldgError(f"{self.task}/{self.variant}: start_stage {start_stage} out of range "
                            f"0..{self.num_stages - 1}")
        self._restore_home()
        self._task.reset_stage()
        self._task.randomize(self, self._rng)
        mujoco.mj_forward(self.model, self.data)
        self._t = 0
        self._stage = 0
        if start_stage > 0:
            self._advance_to_stage(start_stage)
        return self.observation()

    def _advance_to_stage(self, stage: int) -> None:
        expert = make_expert(self)
        expert.reset()
        for _ in range(self.max_episode_steps):
            obs = self.observation(images=False)
            self.step(expert.act(obs), _render=False)
            if self._stage >= stage:
                self._t = 0
                return
        raise RldgError(f"{self.task}/{self.variant}: the expert did not reach stage {stage} "
                        f"from this start; try another seed")

    def step(self, action, _render: bool = True) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Applies one action; returns (obs, reward, terminated, truncated, info)."""
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(self.action_dim), -1.0, 1.0)
        mocap = self.data.mocap_pos[0] + action[:3] * ACTION_SCALE
        self.data.mocap_pos[0] = np.clip(mocap, self._task.mocap_low, self._task.mocap_high)
        self.data.mocap_quat[0] = scene.HAND_QUAT
        grip = -action[3]  # Meta-World: +1 closes; ours: +1 opens
        self.data.ctrl[:] = [grip, -grip]
        mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        mujoco.mj_rnePostConstraint(self.model, self.data)
        self._t += 1
        success, stage = self._task.evaluate(self)
        self._stage = stage
        terminated = bool(success)
        truncated = (not terminated) and self._t >= self.max_episode_steps
        obs = self.observation(images=_render)
        return obs, float(success), terminated, truncated, {"success": bool(success), "stage": int(stage)}

    # ---- observations --------------------------------------------------------------------
    @property
    def hand_pos(self) -> np.ndarray:
        return self.data.xpos[self._hand_id].copy()

    @property
    def tcp_pos(self) -> np.ndarray:
        """Midpoint of the two fingertips."""
        a, b = self._tcp_sites
        return (self.data.site_xpos[a] + self.data.site_xpos[b]) / 2.0

    @property
    def gripper_opening(self) -> float:
        """Finger distance normalised to [0, 1] (1 = fully open), as Meta-World reports it."""
        dist = np.linalg.norm(self.data.xpos[self._right_claw] - self.data.xpos[self._left_claw])
        return float(np.clip(dist / 0.1, 0.0, 1.0))

    @property
    def stage(self) -> int:
        return self._stage

    @property
    def elapsed_steps(self) -> int:
        return self._t

    def state(self) -> np.ndarray:
        return np.append(self.hand_pos, self.gripper_opening).astype(np.float32)

    def observation(self, images: bool = True) -> dict[str, np.ndarray]:
        obs = {"state": self.state(),
               "privileged_state": self._task.privileged(self).astype(np.float32)}
        if self.render_images and images:
            obs["image"] = self.render(self._cam_main)
            if self.wrist:
                obs["wrist_image"] = self.render(self._cam_wrist)
        return obs

    def render(self, camera: int | str | None = None, size: int | None = None) -> np.ndarray:
        """uint8 [H, W, 3] image of `camera` (default: the main camera), upright."""
        size = int(size or self.image_size)
        if self._renderer is None or self._renderer.height != size:
            if self._renderer is not None:
                self._renderer.close()
            scene.fast_render_settings(self.model, size)
            scene.single_thread_software_gl()
            self._renderer = mujoco.Renderer(self.model, size, size)
        cam = self._cam_main if camera is None else camera
        self._renderer.update_scene(self.data, camera=cam)
        scene.disable_costly_flags(self._renderer.scene)
        return self._renderer.render().copy()

    # ---- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> "SimEnv":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # best effort; call close() explicitly
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"SimEnv({self.task}/{self.variant}, split={self.split})"
