"""`FrankaEnvConfig`: HIL-SERL's per-task environment settings (`DefaultEnvConfig`) as a dataclass.

Read from a JSON file (`{"url": ..., "reset_pose": [...], ...}`), filled from the server's
`/config` route when it has one (our simulator does; a real robot server does not, and then the
reset pose and safety box must come from the user's file), with the user's values winning.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from rldg_data.configs import check_keys, field_names
from rldg_data.errors import ConfigError

STATE_KEYS = ("tcp_pose", "tcp_vel", "gripper_pose", "tcp_force", "tcp_torque")
STATE_SIZES = (7, 6, 1, 3, 3)
STATE_DIM = sum(STATE_SIZES)  # the flat `observation/state` recorded: the keys above, in order
GRIPPER_INDEX = 13            # gripper_pose inside the flat state


@dataclasses.dataclass(frozen=True)
class CameraSpec:
    """One camera: `kind` "sim" (the server's /camera route) or "realsense" (`serial`), an optional
    crop (top, bottom, left, right in pixels of the raw frame) applied before the square resize."""

    name: str
    kind: str = "sim"
    serial: str = ""
    crop: Optional[tuple[int, int, int, int]] = None
    fps: int = 0            # 0: read on request (sim); > 0: a reader thread at this rate
    raw_size: tuple[int, int] = (640, 480)  # RealSense stream (width, height)
    exposure: int = 40000

    def __post_init__(self) -> None:
        if self.kind not in ("sim", "realsense"):
            raise ConfigError(f"camera {self.name!r}: kind must be 'sim' or 'realsense', not {self.kind!r}")
        if self.kind == "realsense" and not self.serial:
            raise ConfigError(f"camera {self.name!r}: a RealSense camera needs its serial number")


@dataclasses.dataclass(frozen=True)
class FrankaEnvConfig:
    """How the client drives one robot (names follow HIL-SERL's DefaultEnvConfig).

    action_scale: (metres, radians, gripper) per unit action. Poses are [x, y, z, roll, pitch, yaw]
    (euler "xyz"); the safety box clips targets to abs_pose_limit_low/high (the roll limit applies
    to |roll|, which is near pi for a downward gripper). gripper_interval_s: the least time between
    two gripper commands (HIL-SERL's GRIPPER_SLEEP, here without blocking the loop).
    """

    url: str = "http://127.0.0.1:5000/"
    hz: float = 10.0
    action_scale: tuple[float, float, float] = (0.01, 0.05, 1.0)
    reset_pose: Optional[tuple[float, ...]] = None
    random_reset: bool = False
    random_xy_range: float = 0.0
    random_rz_range: float = 0.0
    abs_pose_limit_low: Optional[tuple[float, ...]] = None
    abs_pose_limit_high: Optional[tuple[float, ...]] = None
    gripper_interval_s: float = 0.6
    gripper_open_threshold: float = 0.85
    max_episode_steps: int = 100
    image_size: int = 128
    cameras: tuple[CameraSpec, ...] = (CameraSpec("main"),)
    camera_timeout_s: float = 5.0
    reset_move_s: float = 1.0
    joint_reset_period: int = 0
    compliance_param: Mapping[str, float] = dataclasses.field(default_factory=dict)
    precision_param: Mapping[str, float] = dataclasses.field(default_factory=dict)
    target_pose: Optional[tuple[float, ...]] = None       # success test of a real robot (HIL-SERL's)
    reward_threshold: Optional[tuple[float, ...]] = None
    timeout_s: float = 2.0
    retries: int = 3
    slow_reply_s: float = 0.5    # a /getstate answer later than this ends the episode (its pose is stale)
    pose_margin_m: float = 0.1   # a reported position this far outside the safety box ends the episode
    task: str = ""
    variant: str = ""
    split: str = "seen"
    language_instruction: str = ""
    bottleneck_stage: int = 0
    simulated: bool = False

    def __post_init__(self) -> None:
        def six(name):
            v = getattr(self, name)
            if v is not None:
                a = np.asarray(v, dtype=np.float64)
                if a.shape != (6,) or not np.all(np.isfinite(a)):
                    raise ConfigError(f"robot config: {name} must be 6 finite numbers [x,y,z,roll,pitch,yaw], got {v}")
                object.__setattr__(self, name, tuple(float(x) for x in a))
        for name in ("reset_pose", "abs_pose_limit_low", "abs_pose_limit_high", "target_pose", "reward_threshold"):
            six(name)
        if not 0 < self.hz <= 1000:
            raise ConfigError(f"robot config: hz must be in (0, 1000], got {self.hz}")
        if len(self.action_scale) != 3 or any(not math.isfinite(s) or s < 0 for s in self.action_scale):
            raise ConfigError(f"robot config: action_scale must be 3 non-negative numbers, got {self.action_scale}")
        if self.max_episode_steps <= 0 or self.image_size <= 0:
            raise ConfigError("robot config: max_episode_steps and image_size must be positive")
        if (self.abs_pose_limit_low is None) != (self.abs_pose_limit_high is None):
            raise ConfigError("robot config: give both abs_pose_limit_low and abs_pose_limit_high")
        if self.abs_pose_limit_low is not None and np.any(np.asarray(self.abs_pose_limit_low) > self.abs_pose_limit_high):
            raise ConfigError("robot config: abs_pose_limit_low exceeds abs_pose_limit_high")
        if not self.cameras:
            raise ConfigError("robot config: at least one camera is needed (the contract's observation/image)")

    @property
    def period(self) -> float:
        return 1.0 / self.hz

    def require_motion_limits(self) -> None:
        missing = [n for n in ("reset_pose", "abs_pose_limit_low", "abs_pose_limit_high") if getattr(self, n) is None]
        if missing:
            raise ConfigError(f"robot config lacks {', '.join(missing)}: the server has no /config route (a real "
                            f"robot), so give them in a JSON file: --robot CONFIG.json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "robot config") -> "FrankaEnvConfig":
        check_keys(data, field_names(cls), where)
        kwargs = dict(data)
        if "cameras" in kwargs:
            kwargs["cameras"] = tuple(_camera(c, where) for c in kwargs["cameras"])
        for key in ("action_scale",):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> "FrankaEnvConfig":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"robot config {path}: cannot read it as JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"robot config {path}: expected a JSON object")
        return cls.from_dict(data, where=f"robot config {path}")

    def merged(self, server: Optional[Mapping[str, Any]], user: Mapping[str, Any]) -> "FrankaEnvConfig":
        """This config with the server's suggestions, then the user's explicit values, applied."""
        fields = {f.name for f in dataclasses.fields(self)}
        data = dataclasses.asdict(self)
        data["cameras"] = [dataclasses.asdict(c) for c in self.cameras]
        for source in (server or {}, user):
            for k, v in source.items():
                if k in fields:
                    data[k] = [{"name": c} if isinstance(c, str) else c for c in v] if k == "cameras" else v
        return FrankaEnvConfig.from_dict(data)


def _camera(c: Any, where: str) -> CameraSpec:
    if isinstance(c, CameraSpec):
        return c
    if isinstance(c, str):
        return CameraSpec(c)
    if not isinstance(c, Mapping) or "name" not in c:
        raise ConfigError(f"{where}: a camera is a name or an object with 'name', got {c!r}")
    c = dict(c)
    for key in ("crop", "raw_size"):
        if c.get(key) is not None:
            c[key] = tuple(int(x) for x in c[key])
    try:
        return CameraSpec(**c)
    except TypeError as exc:
        raise ConfigError(f"{where}: camera {c.get('name')!r}: {exc}") from None
