"""Cameras the robot server serves on its `/camera` route (BGR, like a RealSense): the bundled
simulator server's (`robot_io.sim.server`) and any server speaking the same protocol."""

from __future__ import annotations

import numpy as np


class ServedCameraSource:
    """Frames of camera `name` ("main" or "wrist") rendered by the server at `raw_size` pixels."""

    def __init__(self, client, name: str, raw_size: int | None = None) -> None:
        self.client, self.name, self.raw_size = client, name, raw_size

    def grab(self) -> np.ndarray:
        return self.client.camera(self.name, self.raw_size)

    def close(self) -> None:
        pass
