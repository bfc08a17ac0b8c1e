"""A client of HIL-SERL's Franka robot server, and an environment with HIL-SERL's conventions.

    env = robot_io.franka.connect("http://127.0.0.1:5000/")       # or a JSON config file
    obs = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(np.zeros(7))
    env.close()

The same API is served without hardware by `python -m robot_io.sim.server --task T --variant V`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

from robot_io.franka.client import FrankaClient, RobotState, check_pose
from robot_io.franka.config import CameraSpec, FrankaEnvConfig

__all__ = ["FrankaClient", "RobotState", "check_pose", "CameraSpec", "FrankaEnvConfig", "connect",
           "resolve_config"]


def resolve_config(robot: str, overrides: Optional[Mapping[str, Any]] = None,
                   client: Optional[FrankaClient] = None) -> tuple[FrankaEnvConfig, FrankaClient]:
    """(config, connected client) from `robot` (a URL, or a JSON config file with "url"):
    defaults < the server's /config (if it has one) < the file < `overrides`. Raises
    RobotConnectionError when the server does not answer /getstate."""
    if "://" not in robot and robot.endswith(".json") and not Path(robot).is_file():
        from rldg_data.errors import RldgError

        raise RldgError(f"robot config {robot}: no such file")
    if Path(robot).is_file():
        user = FrankaEnvConfig.from_file(robot)
        import json

        user_keys = json.loads(Path(robot).read_text())
    else:
        user, user_keys = FrankaEnvConfig(url=robot), {"url": robot}
    client = client or FrankaClient(user.url, timeout=user.timeout_s, retries=user.retries)
    client.get_state()  # reachable and speaking the API, or a clear error before anything else
    server = client.server_config()
    config = FrankaEnvConfig(url=user.url).merged(server, {**user_keys, **dict(overrides or {})})
    return config, client


def connect(robot: str, overrides: Optional[Mapping[str, Any]] = None):
    """A `FrankaEnv` on the robot (or simulator) at `robot` (URL or JSON config file)."""
    from robot_io.franka.env import FrankaEnv

    config, client = resolve_config(robot, overrides)
    return FrankaEnv(config, client)
