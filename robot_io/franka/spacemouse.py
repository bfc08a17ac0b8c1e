"""SpaceMouse interventions as HIL-SERL does them (`SpacemouseIntervention`, `SpaceMouseExpert`).

Each step the device is read: a 6-D motion (x, y, z, roll, pitch, yaw in [-1, 1], mapped from the
device's axes as HIL-SERL maps them) and its buttons. If the motion's norm exceeds 0.001 or a
button is held, the device's action replaces the policy's: left button closes the gripper, right
opens it, and without a button the gripper keeps its current state (+1 open, -1 closed: the
contract's absolute gripper). `PySpaceMouseReader` reads a real device (needs `pyspacemouse` and the
HID device, else UnavailableError); `ScriptedSpaceMouse` replays readings, for tests.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Iterable, Optional, Protocol

import numpy as np

from rldg_data.errors import UnavailableError

MOTION_THRESHOLD = 0.001


@dataclasses.dataclass(frozen=True)
class SpaceMouseReading:
    motion: np.ndarray                 # [6]: x, y, z, roll, pitch, yaw
    buttons: tuple[bool, ...] = ()     # (left, right, ...)


class SpaceMouseReader(Protocol):
    def read(self) -> SpaceMouseReading: ...

    def close(self) -> None: ...


def intervention_action(reading: SpaceMouseReading, gripper_open: bool) -> Optional[np.ndarray]:
    """The 7-D action the device asks for, or None when it asks for nothing (HIL-SERL's rule)."""
    motion = np.clip(np.asarray(reading.motion, dtype=np.float64).reshape(6), -1.0, 1.0)
    left = bool(reading.buttons[0]) if len(reading.buttons) > 0 else False
    right = bool(reading.buttons[1]) if len(reading.buttons) > 1 else False
    if np.linalg.norm(motion) <= MOTION_THRESHOLD and not (left or right):
        return None
    gripper = -1.0 if left else 1.0 if right else (1.0 if gripper_open else -1.0)
    return np.append(motion, gripper).astype(np.float32)


class ScriptedSpaceMouse:
    """Replays `readings` one per `read()`, then reads as untouched."""

    def __init__(self, readings: Iterable[SpaceMouseReading]) -> None:
        self._readings = list(readings)
        self.reads = 0

    def read(self) -> SpaceMouseReading:
        i, self.reads = self.reads, self.reads + 1
        return self._readings[i] if i < len(self._readings) else SpaceMouseReading(np.zeros(6))

    def close(self) -> None:
        pass


class PySpaceMouseReader:
    """A 3Dconnexion SpaceMouse read continuously by a thread (the newest state wins)."""

    def __init__(self) -> None:
        try:
            import pyspacemouse
        except ImportError as exc:
            raise UnavailableError(f"SpaceMouse interventions need `pip install pyspacemouse` ({exc})") from None
        if not pyspacemouse.open():
            raise UnavailableError("no SpaceMouse found (is it plugged in and readable by this user?)")
        self._mouse = pyspacemouse
        self._latest = SpaceMouseReading(np.zeros(6))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spacemouse", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            s = self._mouse.read()
            motion = np.array([-s.y, s.x, s.z, -s.roll, -s.pitch, -s.yaw], dtype=np.float64)
            self._latest = SpaceMouseReading(motion, tuple(bool(b) for b in s.buttons))

    def read(self) -> SpaceMouseReading:
        return self._latest

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        close = getattr(self._mouse, "close", None)
        if callable(close):
            close()
