"""One camera interface: a frame source (BGR, as RealSense and OpenCV give them), an optional
latest-frame reader thread, and the crop + square resize + BGR → RGB that observations need.

`Camera.read()` returns uint8 RGB [size, size, 3]. With `fps > 0` a daemon thread grabs frames
continuously and keeps only the newest (HIL-SERL's VideoCapture); `read` waits for a frame newer
than the last one it returned, up to `timeout` seconds, then raises `CameraTimeoutError` (a frozen
or unplugged camera stops the episode instead of feeding it stale images). With `fps == 0` each
read grabs one frame on request (the simulator camera: the image then matches the state).
"""

from __future__ import annotations

import threading
import time
from typing import Optional, Protocol

import numpy as np

from rldg_data.io.images import resize_frame
from rldg_data.errors import CameraTimeoutError, RldgError


class FrameSource(Protocol):
    """Gives raw frames: uint8 [H, W, 3] in BGR order."""

    name: str

    def grab(self) -> np.ndarray: ...

    def close(self) -> None: ...


def crop_resize(frame: np.ndarray, crop: Optional[tuple[int, int, int, int]], size: int) -> np.ndarray:
    """frame[top:bottom, left:right] resized (bilinear) to size x size; same channel order."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise RldgError(f"a camera frame must be uint8 [H, W, 3], got {frame.dtype} {frame.shape}")
    if crop is not None:
        top, bottom, left, right = crop
        frame = frame[top:bottom, left:right]
        if frame.size == 0:
            raise RldgError(f"crop {crop} leaves nothing of the frame")
    return resize_frame(frame, size)


class LatestFrameReader:
    """A thread that grabs from `source` at most `fps` times a second and keeps the newest frame."""

    def __init__(self, source: FrameSource, fps: float) -> None:
        self.source, self.period = source, 1.0 / float(fps)
        self._cond = threading.Condition()
        self._frame: Optional[np.ndarray] = None
        self._count = 0
        self._seen = 0
        self._error: Optional[BaseException] = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"camera-{source.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                frame = self.source.grab()
            except BaseException as exc:  # reported by read(); the thread ends
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self._frame, self._count = frame, self._count + 1
                self._cond.notify_all()
            next_t += self.period
            delay = next_t - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_t = time.monotonic()

    def read(self, timeout: float) -> np.ndarray:
        """The newest frame not returned before; CameraTimeoutError after `timeout` seconds."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._error is not None or self._count > self._seen, timeout)
            if self._error is not None:
                raise CameraTimeoutError(f"camera {self.source.name!r} stopped: {self._error}") from self._error
            if not ok:
                raise CameraTimeoutError(f"camera {self.source.name!r} gave no new frame within {timeout:.1f} s "
                                         f"(check its cable and that nothing else holds it)")
            self._seen = self._count
            return self._frame

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


class Camera:
    """A frame source behind crop, resize to `size`, and BGR → RGB."""

    def __init__(self, source: FrameSource, size: int, crop: Optional[tuple[int, int, int, int]] = None,
                 fps: float = 0.0, timeout: float = 5.0) -> None:
        self.source, self.size, self.crop, self.timeout = source, int(size), crop, float(timeout)
        self.name = source.name
        self._reader = LatestFrameReader(source, fps) if fps > 0 else None

    def read_raw(self) -> np.ndarray:
        """The next raw BGR frame (from the reader thread, or grabbed now)."""
        if self._reader is not None:
            return self._reader.read(self.timeout)
        return self.source.grab()

    def read(self) -> np.ndarray:
        """uint8 RGB [size, size, 3]."""
        bgr = crop_resize(self.read_raw(), self.crop, self.size)
        return np.ascontiguousarray(bgr[..., ::-1])

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self.source.close()
