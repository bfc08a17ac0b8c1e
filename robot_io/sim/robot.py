"""The simulated arm behind `robot_io.sim.server`: one thread owns a `SimEnv` and runs its
controller in real time, one control tick (12.5 ms) at a time.

The hand is servoed towards the latest equilibrium pose as an impedance controller with gravity
compensation would (the arm's joints get their gravity and Coriolis torques fed forward, so the
hand settles on the target instead of sagging under Meta-World's mocap weld); a blocked hand pushes
with the weld's bounded force. Rendering and scene resets run in the same thread, on behalf of
request threads (`call`): an EGL context and an MjData belong to one thread. The hand's
orientation is fixed by the mocap weld: orientation targets are validated but not simulated; the
reported orientation is the hand's, in a TCP frame that points down as a Franka gripper does
(euler (pi, 0, 0) at the start pose).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

import numpy as np

log = logging.getLogger("robot_io.sim.server")

DOWN_EULER = (math.pi, 0.0, 0.0)  # Franka convention: the gripper pointing down, as (roll, pitch, yaw)
ARM_JOINTS = tuple(f"right_j{i}" for i in range(7))
SAG_Z = 0.005  # metres: how far the uncompensated hand hangs below the mocap body at rest

class BadRequest(Exception):
    """A request refused with HTTP 400 (the message says why)."""


def vector(payload: Any, key: str, n: int) -> np.ndarray:
    """payload[key] as n finite floats, or BadRequest naming the field."""
    if not isinstance(payload, dict) or key not in payload:
        raise BadRequest(f"body must be a JSON object with {key!r}")
    try:
        arr = np.asarray(payload[key], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{key!r} is not a list of numbers ({exc})") from None
    if arr.shape != (n,):
        raise BadRequest(f"{key!r} must hold {n} numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BadRequest(f"{key!r} holds NaN or infinity: {arr.tolist()}")
    return arr

class SimRobot:
    """The simulated arm: a thread that owns one `SimEnv` and runs its controller in real time."""

    def __init__(self, config) -> None:
        """`config`: a `robot_io.sim.server.SimServerConfig` (task, variant, image size, wrist, seed, hz)."""
        import robot_io
        from scipy.spatial.transform import Rotation

        self.config = config
        self.sim = robot_io.make(config.task, config.variant, image_size=config.image_size,
                                 wrist=config.wrist, render=True, seed=config.seed)
        # Images only on request, rendered in the simulator thread (an EGL context belongs to the
        # thread that made it): resets must not render in the caller's thread.
        self.sim.render_images = False
        # In the simulator itself the hand hangs about 5 mm below its mocap body (gravity against the
        # weld); here gravity is compensated and the hand reaches the mocap, so the mocap may go
        # SAG_Z lower for the hand to reach as low as it does there (this server's task only).
        task = self.sim._task
        task.mocap_low = np.asarray(task.mocap_low, dtype=np.float64) - np.array([0.0, 0.0, SAG_Z])
        from robot_io.sim.env import ACTION_SCALE, FRAME_SKIP

        self._action_scale = ACTION_SCALE
        self.tick_s = FRAME_SKIP * float(self.sim.model.opt.timestep)
        model = self.sim.model
        self._hand = model.body("hand").id
        self._subtree = [b for b in range(model.nbody) if self._in_subtree(b, self._hand)]
        self._dofs = [int(model.jnt_dofadr[model.joint(j).id]) for j in ARM_JOINTS]
        self._qpos = [int(model.jnt_qposadr[model.joint(j).id]) for j in ARM_JOINTS]
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sim.reset(seed=config.seed)
        hand_rot = Rotation.from_quat(self._hand_quat_xyzw())
        self._tcp_offset = hand_rot.inv() * Rotation.from_euler("xyz", DOWN_EULER)
        self._Rotation = Rotation
        self.home = np.concatenate([self.sim.hand_pos, Rotation.from_euler("xyz", DOWN_EULER).as_quat()])
        self._target = self.sim.hand_pos
        self._grip = 1.0  # +1 open, -1 closed (our action convention)
        self._success, self._ticks, self._overruns = False, 0, 0
        self.params: dict[str, Any] = {}
        self.load: dict[str, Any] = {}
        self._snapshot = self._state()
        self._thread = threading.Thread(target=self._run, name="sim-robot", daemon=True)
        self._thread.start()
        self.call(lambda: self.sim.render())  # creates the EGL context now (seconds), not on a request

    def _in_subtree(self, body: int, root: int) -> bool:
        while body > 0:
            if body == root:
                return True
            body = int(self.sim.model.body_parentid[body])
        return body == root

    def _hand_quat_xyzw(self) -> np.ndarray:
        w, x, y, z = self.sim.data.xquat[self._hand]
        return np.array([x, y, z, w])

    # ---- the simulator thread ----------------------------------------------------------------
    def _run(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            wait = next_tick - time.monotonic()
            try:
                fn, fut = self._jobs.get(timeout=max(wait, 0.0)) if wait > 0 else self._jobs.get_nowait()
            except queue.Empty:
                fn = None
            if fn is not None:
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # handed to the request thread
                    fut.set_exception(exc)
                continue
            self._tick()
            next_tick += self.tick_s
            late = time.monotonic() - next_tick
            if late > 0.1:  # a long stall (a reset, a slow render): resume real time, do not race
                self._overruns += 1
                next_tick = time.monotonic()
        self.sim.close()  # in the thread that created the renderer

    def _tick(self) -> None:
        sim = self.sim
        with self._lock:
            target, grip = self._target.copy(), self._grip
        # Gravity compensation of the arm's joints (as Franka's controller does): the hand then
        # settles on the equilibrium pose instead of sagging under the mocap weld.
        sim.data.qfrc_applied[self._dofs] = sim.data.qfrc_bias[self._dofs]
        delta = (target - sim.data.mocap_pos[0]) / self._action_scale
        action = np.append(np.clip(delta, -1.0, 1.0), grip)
        _, _, terminated, _, info = sim.step(action, _render=False)
        self._success = self._success or bool(info["success"])
        self._ticks += 1
        state = self._state()
        with self._lock:
            self._snapshot = state

    def _state(self) -> dict[str, Any]:
        import mujoco

        sim = self.sim
        model, data = sim.model, sim.data
        rot = self._Rotation.from_quat(self._hand_quat_xyzw()) * self._tcp_offset
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, self._hand, vel, 0)
        wrench = data.cfrc_ext[self._subtree].sum(axis=0)  # [torque, force], world frame, at the com
        jac_p, jac_r = np.zeros((3, model.nv)), np.zeros((3, model.nv))
        mujoco.mj_jacBody(model, data, jac_p, jac_r, self._hand)
        jacobian = np.vstack([jac_p, jac_r])[:, self._dofs]
        return {
            "pose": np.concatenate([sim.hand_pos, rot.as_quat()]).tolist(),
            "vel": np.concatenate([vel[3:], vel[:3]]).tolist(),
            "force": wrench[3:].tolist(), "torque": wrench[:3].tolist(),
            "q": data.qpos[self._qpos].tolist(), "dq": data.qvel[self._dofs].tolist(),
            "jacobian": jacobian.tolist(), "gripper_pos": float(sim.gripper_opening),
            "sim": {"success": bool(self._success), "stage": int(sim.stage), "time": float(data.time),
                    "privileged": sim.observation(images=False)["privileged_state"].tolist(),
                    "ticks": self._ticks, "overruns": self._overruns},
        }

    def call(self, fn: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Runs `fn` in the simulator thread between two ticks and returns its result."""
        if not self._thread.is_alive():
            raise RuntimeError("the simulator thread has stopped")
        fut: Future = Future()
        self._jobs.put((fn, fut))
        return fut.result(timeout=timeout)

    # ---- what the routes do ------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot

    def move(self, pose: np.ndarray) -> None:
        """Sets the equilibrium pose [x, y, z, qx, qy, qz, qw]; out-of-workspace targets are clipped."""
        norm = float(np.linalg.norm(pose[3:]))
        if not 0.9 < norm < 1.1:
            raise BadRequest(f"pose quaternion has norm {norm:.3f}, not 1")
        low, high = self.sim._task.mocap_low, self.sim._task.mocap_high
        xyz = np.clip(pose[:3], low, high)
        if not np.array_equal(xyz, pose[:3]):
            log.warning("pose target %s outside the workspace [%s, %s]: clipped to %s",
                        np.round(pose[:3], 4).tolist(), low.tolist(), high.tolist(), np.round(xyz, 4).tolist())
        with self._lock:
            self._target = xyz

    def gripper(self, opening: float) -> None:
        with self._lock:
            self._grip = float(opening)

    def reset_scene(self, seed: int | None, start_stage: int) -> dict[str, Any]:
        def job():
            self.sim.reset(seed=seed, start_stage=start_stage)
            hand = self.sim.hand_pos
            with self._lock:
                self._target, self._grip = hand, 1.0 if start_stage == 0 else self._grip_of_stage()
            self._success = False
            state = self._state()
            with self._lock:
                self._snapshot = state
            return {"stage": int(self.sim.stage), "pose": state["pose"]}
        return self.call(job)

    def _grip_of_stage(self) -> float:
        return 1.0 if self.sim.gripper_opening > 0.85 else -1.0

    def joint_reset(self, timeout: float = 3.0) -> None:
        """Back to the home pose, gripper open (HIL-SERL re-homes the joints; here: the hand)."""
        with self._lock:
            self._target, self._grip = self.home[:3].copy(), 1.0
        end = time.monotonic() + timeout
        while time.monotonic() < end and np.linalg.norm(np.asarray(self.state()["pose"][:3]) - self.home[:3]) > 0.005:
            time.sleep(0.02)

    def render(self, name: str, size: int | None) -> np.ndarray:
        from robot_io.sim import scene

        cams = {"main": scene.MAIN_CAMERA, "wrist": scene.WRIST_CAMERA}
        if name not in cams:
            raise BadRequest(f"unknown camera {name!r}; known: {', '.join(cams)}")
        if size is not None and not (isinstance(size, int) and 8 <= size <= 1024):
            raise BadRequest(f"size must be an integer in 8..1024, got {size!r}")
        camera = self.sim.model.camera(cams[name]).id
        return self.call(lambda: self.sim.render(camera, size))

    def client_config(self) -> dict[str, Any]:
        """The client configuration that suits this task (FrankaEnvConfig fields)."""
        task = self.sim._task
        low = np.concatenate([task.mocap_low, [math.pi - 0.2, -0.2, -0.2]])
        high = np.concatenate([task.mocap_high, [math.pi, 0.2, 0.2]])
        return {
            "hz": self.config.hz, "reset_pose": list(self.home[:3]) + list(DOWN_EULER),
            "abs_pose_limit_low": low.tolist(), "abs_pose_limit_high": high.tolist(),
            "action_scale": [self._action_scale, 0.05, 1.0], "max_episode_steps": int(self.sim.max_episode_steps),
            "cameras": ["main", "wrist"] if self.config.wrist else ["main"], "image_size": self.config.image_size,
            "gripper_interval_s": 0.3, "reset_move_s": 0.3,
            "task": self.sim.task, "variant": self.sim.variant, "split": self.sim.split,
            "language_instruction": self.sim.language_instruction, "num_stages": int(self.sim.num_stages),
            "bottleneck_stage": int(self.sim.bottleneck_stage), "simulated": True,
        }

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
