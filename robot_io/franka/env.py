"""`FrankaEnv`: HIL-SERL's Franka environment conventions over `FrankaClient`.

A step takes a 7-D action in [-1, 1]: xyz delta × action_scale[0] metres and euler delta ×
action_scale[1] radians applied to the measured pose, and a binary gripper (≤ -0.5 closes an
open gripper, ≥ 0.5 opens a closed one, at most one command per `gripper_interval_s`). The target
is clipped to the safety box (position, and orientation as euler angles with |roll| for the
pi/-pi wrap), sent as `/clearerr` + `/pose`, then the loop sleeps out the rest of its period
(1/hz) and reads the state and images. Ticks keep their phase; a step whose work overran the
period counts an overrun. An action holding NaN is refused: nothing is sent, the robot holds.

Observation (HIL-SERL's): {"state": {tcp_pose [7], tcp_vel [6], gripper_pose [1], tcp_force [3],
tcp_torque [3]}, "images": {camera: uint8 RGB}}. `info`: success, stage, and the simulator's
privileged state when the server is our simulator.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Optional

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from rldg_data.errors import RldgError, RobotConnectionError, RobotProtocolError
from robot_io.franka.client import FrankaClient, RobotState
from robot_io.franka.config import FrankaEnvConfig

log = logging.getLogger(__name__)


@dataclasses.dataclass
class LoopStats:
    """Timing and safety counts of one episode (written to its metadata)."""

    hz: float
    steps: int = 0
    overruns: int = 0
    refused: int = 0
    clipped: int = 0
    gripper_commands: int = 0
    periods: list = dataclasses.field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        p = np.asarray(self.periods) * 1000.0
        return {"hz": self.hz, "steps": self.steps, "overruns": self.overruns, "refused": self.refused,
                "clipped": self.clipped, "gripper_commands": self.gripper_commands,
                "period_p50_ms": float(np.percentile(p, 50)) if p.size else 0.0,
                "period_p99_ms": float(np.percentile(p, 99)) if p.size else 0.0,
                "period_max_ms": float(p.max()) if p.size else 0.0}


class LoopClock:
    """Ticks every `period` seconds, keeping phase (deadlines do not drift with sleep latency);
    `wait()` sleeps until the next tick. A tick whose deadline had passed before the sleep is an
    overrun; the clock then restarts its phase from now."""

    def __init__(self, period: float) -> None:
        self.period = float(period)
        self._deadline = self._tick = time.monotonic()

    def start(self) -> None:
        self._deadline = self._tick = time.monotonic()

    def wait(self) -> tuple[float, bool]:
        """Sleeps out the period; returns (seconds since the previous tick, overran)."""
        deadline = self._deadline + self.period
        now = time.monotonic()
        overran = now > deadline
        if not overran:
            time.sleep(deadline - now)
        tick = time.monotonic()
        elapsed, self._tick = tick - self._tick, tick
        self._deadline = tick if overran else deadline
        return elapsed, overran


def clip_safety_box(pose: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """[x,y,z,qx,qy,qz,qw] clipped to the box low/high = [x,y,z,roll,pitch,yaw] (HIL-SERL's rule:
    |roll| is clipped, keeping its sign, since a downward gripper sits at the pi/-pi wrap)."""
    out = np.array(pose, dtype=np.float64)
    out[:3] = np.clip(out[:3], low[:3], high[:3])
    euler = Rotation.from_quat(out[3:]).as_euler("xyz")
    sign = 1.0 if euler[0] >= 0 else -1.0
    euler[0] = sign * np.clip(abs(euler[0]), low[3], high[3])
    euler[1:] = np.clip(euler[1:], low[4:], high[4:])
    out[3:] = Rotation.from_euler("xyz", euler).as_quat()
    return out


def euler_pose(pose6) -> np.ndarray:
    p = np.asarray(pose6, dtype=np.float64)
    return np.concatenate([p[:3], Rotation.from_euler("xyz", p[3:]).as_quat()])


class FrankaEnv:
    """One robot behind HIL-SERL's server API. `reset(seed=, start_stage=)` → obs; `step(a)` →
    (obs, reward, terminated, truncated, info). Cameras are `robot_io.cameras.Camera`s (made from
    `config.cameras` unless given)."""

    action_dim = 7

    def __init__(self, config: FrankaEnvConfig, client: Optional[FrankaClient] = None,
                 cameras: Optional[list] = None) -> None:
        config.require_motion_limits()
        self.config = config
        self.client = client or FrankaClient(config.url, timeout=config.timeout_s, retries=config.retries)
        self._low = np.asarray(config.abs_pose_limit_low)
        self._high = np.asarray(config.abs_pose_limit_high)
        self.reset_pose = euler_pose(config.reset_pose)
        if cameras is None:
            from robot_io.cameras import make_camera

            cameras = [make_camera(c, config.image_size, self.client, config.camera_timeout_s)
                       for c in config.cameras]
        self.cameras = list(cameras)
        self.clock = LoopClock(config.period)
        self.stats = LoopStats(config.hz)
        self.state: RobotState = self.client.get_state()
        self._last_gripper = -np.inf
        self._episodes = 0
        self._steps = 0
        self._rng = np.random.default_rng()
        self.info: dict[str, Any] = {"success": False, "stage": 0}

    # ---- state ---------------------------------------------------------------------------------
    def _read_state(self, in_loop: bool = False) -> RobotState:
        """`/getstate`, trusted only when fresh and inside the workspace: an answer slower than
        `slow_reply_s` (timed in the control loop: `in_loop`) or a position more than
        `pose_margin_m` outside the safety box raises (the episode ends there; no command is
        computed from such a state, so none is sent)."""
        cfg = self.config
        started = time.monotonic()
        state = self.client.get_state()
        took = time.monotonic() - started
        if in_loop and took > cfg.slow_reply_s:
            raise RobotConnectionError(
                f"robot server {self.client.url}: /getstate answered in {took * 1000:.0f} ms, past the "
                f"{cfg.period * 1000:.0f} ms control period (slow_reply_s {cfg.slow_reply_s} s): its pose "
                f"is stale, so the episode was stopped and nothing more was sent")
        xyz = state.pose[:3]
        outside = np.maximum(self._low[:3] - xyz, xyz - self._high[:3]).max()
        if outside > cfg.pose_margin_m:
            raise RobotProtocolError(
                f"/getstate: field 'pose' reports {np.round(xyz, 3).tolist()}, {outside:.3f} m outside the "
                f"safety box (pose_margin_m {cfg.pose_margin_m}): a sensor or server fault; the episode was "
                f"stopped and nothing more was sent")
        return state

    # ---- commands ----------------------------------------------------------------------------
    def _send_gripper(self, command: float) -> None:
        cfg = self.config
        now = time.monotonic()
        if now - self._last_gripper < cfg.gripper_interval_s:
            return
        is_open = self.state.gripper_pos > cfg.gripper_open_threshold
        if command <= -0.5 and is_open:
            self.client.close_gripper()
        elif command >= 0.5 and not is_open:
            self.client.open_gripper()
        else:
            return
        self._last_gripper = now
        self.stats.gripper_commands += 1

    def _send_pose(self, pose: np.ndarray) -> None:
        safe = clip_safety_box(pose, self._low, self._high)
        if not np.allclose(safe[:3], pose[:3], atol=1e-9) or abs(abs(float(np.dot(safe[3:], pose[3:]))) - 1) > 1e-9:
            self.stats.clipped += 1
            log.debug("target %s outside the safety box: clipped to %s", np.round(pose, 4), np.round(safe, 4))
        self.client.send_pose(safe)

    def target_of(self, action: np.ndarray) -> np.ndarray:
        """The pose `action` asks for, from the last measured pose (before the safety box)."""
        scale = self.config.action_scale
        cur = self.state.pose
        rot = Rotation.from_euler("xyz", action[3:6] * scale[1]) * Rotation.from_quat(cur[3:])
        return np.concatenate([cur[:3] + action[:3] * scale[0], rot.as_quat()])

    # ---- the loop ----------------------------------------------------------------------------
    def step(self, action) -> tuple[dict, float, bool, bool, dict]:
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (7,):
            raise RldgError(f"a Franka action has 7 numbers (xyz, euler, gripper), got {a.shape[0]}")
        if not np.all(np.isfinite(a)):
            self.stats.refused += 1
            log.warning("refused action %s (NaN or infinity): nothing sent, the robot holds", a.tolist())
        else:
            a = np.clip(a, -1.0, 1.0)
            self._send_gripper(float(a[6] * self.config.action_scale[2]))
            self._send_pose(self.target_of(a))
        elapsed, overran = self.clock.wait()
        self.stats.periods.append(elapsed)
        self.stats.overruns += int(overran)
        self.stats.steps += 1
        self._steps += 1
        self.state = self._read_state(in_loop=True)
        obs = self._observation()
        success = self._success()
        self.info = {"success": success, "stage": self._stage(), "overran": overran}
        terminated = success
        truncated = not terminated and self._steps >= self.config.max_episode_steps
        return obs, float(success), terminated, truncated, dict(self.info)

    def reset(self, seed: Optional[int] = None, start_stage: int = 0) -> dict:
        """HIL-SERL's reset: compliance parameters, clear errors, (scene reset), precision mode,
        an interpolated move to the reset pose (+ random xy / yaw offset), compliance mode."""
        cfg = self.config
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if cfg.compliance_param:
            self.client.update_param(dict(cfg.compliance_param))
        self.client.clear_error()
        if cfg.simulated:
            self.client.sim_reset(seed, start_stage)
        elif start_stage:
            raise RldgError("start_stage > 0 needs a simulated robot (a hand-off state is set up by the simulator)")
        self._episodes += 1
        if cfg.joint_reset_period and self._episodes % cfg.joint_reset_period == 0:
            self.client.joint_reset()
        if start_stage == 0:
            self._go_to_reset()
        self.stats = LoopStats(cfg.hz)
        self._steps = 0
        self._last_gripper = -np.inf
        self.state = self._read_state()
        obs = self._observation()
        self.info = {"success": False, "stage": self._stage()}
        self.clock.start()
        return obs

    def _go_to_reset(self) -> None:
        cfg = self.config
        goal = self.reset_pose.copy()
        if cfg.random_reset:
            goal[:2] += self._rng.uniform(-cfg.random_xy_range, cfg.random_xy_range, 2)
            euler = np.asarray(cfg.reset_pose[3:], dtype=np.float64).copy()
            euler[2] += self._rng.uniform(-cfg.random_rz_range, cfg.random_rz_range)
            goal[3:] = Rotation.from_euler("xyz", euler).as_quat()
        if cfg.precision_param:
            self.client.update_param(dict(cfg.precision_param))
        self.state = self._read_state()
        steps = max(1, int(round(cfg.reset_move_s * cfg.hz)))
        start = self.state.pose
        slerp = Slerp([0.0, 1.0], Rotation.from_quat([start[3:], goal[3:]]))
        for t in np.linspace(0.0, 1.0, steps + 1)[1:]:
            pose = np.concatenate([start[:3] + t * (goal[:3] - start[:3]), slerp([t]).as_quat()[0]])
            self._send_pose(pose)
            time.sleep(cfg.period)
        if cfg.compliance_param:
            self.client.update_param(dict(cfg.compliance_param))

    # ---- observations ------------------------------------------------------------------------
    def _observation(self) -> dict:
        s = self.state
        state = {"tcp_pose": s.pose, "tcp_vel": s.vel, "gripper_pose": np.array([s.gripper_pos]),
                 "tcp_force": s.force, "tcp_torque": s.torque}
        return {"state": state, "images": {c.name: c.read() for c in self.cameras}}

    def _success(self) -> bool:
        sim = self.state.sim
        if sim is not None and "success" in sim:
            return bool(sim["success"])
        cfg = self.config
        if cfg.target_pose is None or cfg.reward_threshold is None:
            return False
        target = np.asarray(cfg.target_pose)
        cur = self.state.pose
        diff = (Rotation.from_quat(cur[3:]).inv() * Rotation.from_euler("xyz", target[3:])).as_euler("xyz")
        delta = np.abs(np.concatenate([cur[:3] - target[:3], diff]))
        return bool(np.all(delta < np.asarray(cfg.reward_threshold)))

    def _stage(self) -> int:
        sim = self.state.sim
        return int(sim.get("stage", 0)) if sim else 0

    @property
    def privileged_state(self) -> Optional[np.ndarray]:
        sim = self.state.sim
        if not sim or "privileged" not in sim:
            return None
        p = np.asarray(sim["privileged"], dtype=np.float32)
        if not np.all(np.isfinite(p)):
            from rldg_data.errors import RobotProtocolError
            raise RobotProtocolError("/getstate: field 'sim.privileged' holds NaN or infinity")
        return p

    def close(self) -> None:
        for c in self.cameras:
            c.close()
        self.client.close()
