"""Intel RealSense colour frames (BGR, like HIL-SERL's RSCapture) as a `FrameSource`.

Needs the optional extra `pip install "rldg-data[realsense]"` (pyrealsense2); without it, or
without a camera of the given serial number, opening one raises `UnavailableError` saying so.
"""

from __future__ import annotations

import numpy as np

from rldg_data.errors import CameraTimeoutError, UnavailableError


def _pyrealsense2():
    try:
        import pyrealsense2 as rs
    except ImportError as exc:
        raise UnavailableError("RealSense cameras need pyrealsense2: pip install \"rldg-data[realsense]\" "
                               f"({exc})") from None
    return rs


def serial_numbers() -> list[str]:
    """Serial numbers of the RealSense cameras plugged in."""
    rs = _pyrealsense2()
    return [d.get_info(rs.camera_info.serial_number) for d in rs.context().devices]


class RealSenseSource:
    """One RealSense colour stream (`raw_size` = (width, height) at `fps`, fixed exposure)."""

    def __init__(self, name: str, serial: str, raw_size: tuple[int, int] = (640, 480), fps: int = 15,
                 exposure: int = 40000, timeout_s: float = 5.0) -> None:
        rs = _pyrealsense2()
        found = serial_numbers()
        if serial not in found:
            raise UnavailableError(f"camera {name!r}: no RealSense with serial {serial!r} "
                                   f"(found: {', '.join(found) or 'none'})")
        self.name, self.serial, self._timeout_ms = name, serial, int(timeout_s * 1000)
        self._pipe = rs.pipeline()
        cfg = rs.config()
        cfg.enable_device(serial)
        cfg.enable_stream(rs.stream.color, int(raw_size[0]), int(raw_size[1]), rs.format.bgr8, int(fps))
        profile = self._pipe.start(cfg)
        profile.get_device().query_sensors()[0].set_option(rs.option.exposure, exposure)

    def grab(self) -> np.ndarray:
        try:
            frames = self._pipe.wait_for_frames(self._timeout_ms)
        except RuntimeError as exc:  # pyrealsense2 raises RuntimeError on a timeout
            raise CameraTimeoutError(f"camera {self.name!r} ({self.serial}): {exc}") from None
        color = frames.get_color_frame()
        if not color:
            raise CameraTimeoutError(f"camera {self.name!r} ({self.serial}) gave a frame set without colour")
        return np.asanyarray(color.get_data()).copy()

    def close(self) -> None:
        try:
            self._pipe.stop()
        except RuntimeError:
            pass
