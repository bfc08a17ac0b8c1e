"""Cameras for real and simulated robots: one `Camera` interface over frame sources.

    cam = make_camera(CameraSpec("wrist", kind="realsense", serial="130322274175"), size=128)
    rgb = cam.read()          # uint8 [128, 128, 3], RGB; CameraTimeoutError if the camera froze
"""

from __future__ import annotations

from rldg_data.errors import RldgError
from robot_io.cameras.base import Camera, FrameSource, LatestFrameReader, crop_resize
from robot_io.cameras.served import ServedCameraSource

__all__ = ["Camera", "FrameSource", "LatestFrameReader", "crop_resize", "make_camera"]


def make_camera(spec, size: int, client=None, timeout: float = 5.0) -> Camera:
    """The `Camera` a `robot_io.franka.config.CameraSpec` describes (`client` for "sim" cameras)."""
    if spec.kind == "realsense":
        from robot_io.cameras.realsense import RealSenseSource

        source = RealSenseSource(spec.name, spec.serial, spec.raw_size, fps=spec.fps or 15,
                                 exposure=spec.exposure, timeout_s=timeout)
        return Camera(source, size, spec.crop, fps=spec.fps or 15, timeout=timeout)
    if client is None:
        raise RldgError(f"camera {spec.name!r}: a simulator camera needs the robot client")
    # The server renders at its own image size; the crop and resize apply as to any camera.
    return Camera(ServedCameraSource(client, spec.name), size, spec.crop, fps=spec.fps, timeout=timeout)
