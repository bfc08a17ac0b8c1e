"""Teleoperation devices (keyboard, 3Dconnexion SpaceMouse) behind the demonstrator interface.

For real use on a robot (or in the simulator with a person at the keys). The mapping from device
input to the [-1, 1] action is pure and tested here; reading the hardware needs `pynput`
(keyboard) or `pyspacemouse` (SpaceMouse) and a display or HID device, which this toolkit does not
install: without them `read()` raises `UnavailableError` saying what to install.

Keyboard: w/s = +x/-x, a/d = +y/-y, r/f = +z/-z, space toggles the gripper (starts open).
SpaceMouse: translation axes (raw counts, about +-350 full scale) with a dead zone; left button
closes, right button opens.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Protocol

import numpy as np

from rldg_data.errors import UnavailableError

KEY_AXES = {"w": (0, 1.0), "s": (0, -1.0), "a": (1, 1.0), "d": (1, -1.0), "r": (2, 1.0), "f": (2, -1.0)}
GRIPPER_KEY = "space"


class Device(Protocol):
    """A teleop device: `read()` returns the current action (float32[4], +1 gripper = open)."""

    def read(self) -> np.ndarray: ...


@dataclasses.dataclass
class KeyboardMapping:
    """Keys held down -> action; the gripper toggles on each new press of `space`."""

    speed: float = 1.0
    gripper_open: bool = True
    _space_was_down: bool = False

    def __call__(self, pressed: Iterable[str]) -> np.ndarray:
        pressed = {k.lower() for k in pressed}
        move = np.zeros(3)
        for key, (axis, sign) in KEY_AXES.items():
            if key in pressed:
                move[axis] += sign * self.speed
        space = GRIPPER_KEY in pressed
        if space and not self._space_was_down:
            self.gripper_open = not self.gripper_open
        self._space_was_down = space
        return np.append(np.clip(move, -1, 1), 1.0 if self.gripper_open else -1.0).astype(np.float32)


@dataclasses.dataclass
class SpaceMouseMapping:
    """Raw SpaceMouse translation counts (x, y, z) and buttons -> action."""

    full_scale: float = 350.0
    dead_zone: float = 0.1
    gripper_open: bool = True

    def __call__(self, translation: Iterable[float], buttons: Mapping[str, bool] | Iterable[bool] = ()) -> np.ndarray:
        t = np.clip(np.asarray(list(translation), dtype=np.float64) / self.full_scale, -1, 1)
        t = np.where(np.abs(t) < self.dead_zone, 0.0,
                     np.sign(t) * (np.abs(t) - self.dead_zone) / (1 - self.dead_zone))
        b = list(buttons.values()) if isinstance(buttons, Mapping) else list(buttons)
        if len(b) > 0 and b[0]:
            self.gripper_open = False
        if len(b) > 1 and b[1]:
            self.gripper_open = True
        return np.append(t, 1.0 if self.gripper_open else -1.0).astype(np.float32)


class KeyboardDevice:
    """Reads held keys with pynput (needs a display)."""

    def __init__(self, mapping: KeyboardMapping | None = None) -> None:
        self.mapping = mapping or KeyboardMapping()
        try:
            from pynput import keyboard  # noqa: F401
        except Exception as exc:
            raise UnavailableError("keyboard teleop needs `pip install pynput` and a display "
                                   f"({exc})") from exc
        self._pressed: set[str] = set()
        def name(key):
            return getattr(key, "char", None) or getattr(key, "name", "")
        self._listener = keyboard.Listener(on_press=lambda k: self._pressed.add(name(k)),
                                           on_release=lambda k: self._pressed.discard(name(k)))
        self._listener.start()

    def read(self) -> np.ndarray:
        return self.mapping(set(self._pressed))


class SpaceMouseDevice:
    """Reads a 3Dconnexion SpaceMouse with pyspacemouse (needs the HID device)."""

    def __init__(self, mapping: SpaceMouseMapping | None = None) -> None:
        self.mapping = mapping or SpaceMouseMapping()
        try:
            import pyspacemouse
        except Exception as exc:
            raise UnavailableError(f"SpaceMouse teleop needs `pip install pyspacemouse` ({exc})") from exc
        if not pyspacemouse.open():
            raise UnavailableError("no SpaceMouse found (is it plugged in and readable?)")
        self._mouse = pyspacemouse

    def read(self) -> np.ndarray:
        s = self._mouse.read()
        return self.mapping((s.x * self.mapping.full_scale, s.y * self.mapping.full_scale,
                             s.z * self.mapping.full_scale), list(s.buttons))


class TeleopDemonstrator:
    """A person at a device, with the demonstrator interface (`source` "human")."""

    source = "human"

    def __init__(self, device: Device, policy_id: str = "teleop") -> None:
        self.device = device
        self.policy_id = policy_id

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs) -> np.ndarray:
        return np.asarray(self.device.read(), dtype=np.float32)
