"""An HTTP client of HIL-SERL's robot server (`franka_server.py`), or of `robot_io.sim.server`.

Every route is a POST with a JSON body. Each call has a timeout. A failed connection is retried
(with a short backoff) for requests that are safe to repeat (state, camera, config, clearing
errors, parameters); a motion or gripper command is never sent twice: if it fails, the call
raises `RobotConnectionError` and the caller decides. Answers are validated before anyone acts on
them: a state with a missing field, a wrong length or a NaN raises `RobotProtocolError` naming the
route and the field. A pose is checked (7 finite numbers, unit quaternion) before it is sent.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import logging
import math
import socket
import threading
import time
from typing import Any, Optional
from urllib.parse import urlsplit

import numpy as np

from rldg_data.errors import RobotConnectionError, RobotProtocolError

log = logging.getLogger(__name__)

RETRYABLE = frozenset({"getstate", "clearerr", "update_param", "camera", "config", "getpos"})


@dataclasses.dataclass(frozen=True)
class RobotState:
    """One `/getstate` answer, validated. `sim` holds the simulator's extras (None on a robot)."""

    pose: np.ndarray      # [x, y, z, qx, qy, qz, qw]
    vel: np.ndarray       # [6] linear, angular
    force: np.ndarray     # [3]
    torque: np.ndarray    # [3]
    q: np.ndarray         # [7]
    dq: np.ndarray        # [7]
    jacobian: np.ndarray  # [6, 7]
    gripper_pos: float    # 1 open .. 0 closed
    sim: Optional[dict] = None

    @classmethod
    def from_json(cls, data: Any, route: str = "getstate") -> "RobotState":
        if not isinstance(data, dict):
            raise RobotProtocolError(f"/{route} answered {type(data).__name__}, not a JSON object")

        def arr(key: str, shape: tuple[int, ...]) -> np.ndarray:
            if key not in data:
                raise RobotProtocolError(f"/{route}: field {key!r} is missing")
            try:
                a = np.asarray(data[key], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise RobotProtocolError(f"/{route}: field {key!r} is not numeric ({exc})") from None
            if a.size == math.prod(shape):
                a = a.reshape(shape)
            if a.shape != shape:
                raise RobotProtocolError(f"/{route}: field {key!r} has shape {a.shape}, expected {shape}")
            if not np.all(np.isfinite(a)):
                raise RobotProtocolError(f"/{route}: field {key!r} holds NaN or infinity: {a.tolist()}")
            return a

        pose = arr("pose", (7,))
        norm = float(np.linalg.norm(pose[3:]))
        if not 0.9 < norm < 1.1:
            raise RobotProtocolError(f"/{route}: field 'pose' has a quaternion of norm {norm:.3f}")
        pose[3:] /= norm
        sim = data.get("sim")
        if sim is not None and not isinstance(sim, dict):
            raise RobotProtocolError(f"/{route}: field 'sim' is not an object")
        return cls(pose=pose, vel=arr("vel", (6,)), force=arr("force", (3,)), torque=arr("torque", (3,)),
                   q=arr("q", (7,)), dq=arr("dq", (7,)), jacobian=arr("jacobian", (6, 7)),
                   gripper_pos=float(arr("gripper_pos", (1,))[0]), sim=sim)


def check_pose(pose) -> np.ndarray:
    """A pose that may be sent: 7 finite numbers with a unit quaternion (else RobotProtocolError)."""
    p = np.asarray(pose, dtype=np.float64).reshape(-1)
    if p.shape != (7,):
        raise RobotProtocolError(f"a pose has 7 numbers [x,y,z,qx,qy,qz,qw], got {p.shape[0]}")
    if not np.all(np.isfinite(p)):
        raise RobotProtocolError(f"refusing to send a pose holding NaN or infinity: {p.tolist()}")
    norm = float(np.linalg.norm(p[3:]))
    if abs(norm - 1.0) > 1e-3:
        raise RobotProtocolError(f"refusing to send a pose whose quaternion has norm {norm:.4f}")
    return p


class FrankaClient:
    """The robot server at `url` (e.g. http://127.0.0.1:5000/); one keep-alive connection per thread.

    timeout: seconds for one request (connect + answer); retries/backoff: for repeatable requests.
    """

    def __init__(self, url: str, timeout: float = 2.0, retries: int = 3, backoff: float = 0.2) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise RobotConnectionError(f"robot URL {url!r} must look like http://HOST:PORT/")
        self.url = f"http://{parts.hostname}:{parts.port or 80}/"
        self._host, self._port = parts.hostname, parts.port or 80
        self.timeout, self.retries, self.backoff = float(timeout), int(retries), float(backoff)
        self._local = threading.local()
        self.requests = 0

    # ---- transport -------------------------------------------------------------------------
    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def request(self, route: str, body: Any = None) -> tuple[bytes, dict[str, str]]:
        """POSTs `body` (JSON) to /route; returns (payload, headers) of a 200 answer."""
        try:
            payload = b"" if body is None else json.dumps(body, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:  # NaN, infinity, or not JSON at all: never sent
            raise RobotProtocolError(f"refusing to send /{route}: its body is not finite JSON ({exc})") from None
        attempts = 1 + (self.retries if route in RETRYABLE else 0)
        last: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * attempt)
            try:
                conn = self._conn()
                conn.request("POST", f"/{route}", body=payload,
                             headers={"Content-Type": "application/json", "Connection": "keep-alive"})
                resp = conn.getresponse()
                data = resp.read()
                self.requests += 1
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, closed
                self._drop()
                last = exc
                log.debug("/%s attempt %d failed: %s", route, attempt + 1, exc)
                continue
            if resp.status != 200:
                text = data[:300].decode(errors="replace")
                raise RobotProtocolError(f"/{route} answered HTTP {resp.status}: {text}")
            return data, {k: v for k, v in resp.getheaders()}
        kind = "timed out" if isinstance(last, (socket.timeout, TimeoutError)) else "failed"
        tries = f" after {attempts} attempts" if attempts > 1 else " (not retried: a command is never sent twice)"
        raise RobotConnectionError(f"robot server {self.url}: /{route} {kind}{tries}: {last}")

    def _json(self, route: str, body: Any = None) -> Any:
        data, _ = self.request(route, body)
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RobotProtocolError(f"/{route} answered malformed JSON: {exc} ({data[:80]!r})") from None

    def close(self) -> None:
        self._drop()

    # ---- HIL-SERL's routes -------------------------------------------------------------------
    def get_state(self) -> RobotState:
        return RobotState.from_json(self._json("getstate"))

    def clear_error(self) -> None:
        self.request("clearerr")

    def send_pose(self, pose) -> None:
        """`/clearerr` then `/pose` {"arr": pose} (HIL-SERL does the same before every pose)."""
        p = check_pose(pose)
        self.clear_error()
        self.request("pose", {"arr": p.astype(np.float32).astype(np.float64).tolist()})

    def update_param(self, params: dict) -> None:
        self.request("update_param", dict(params))

    def joint_reset(self) -> None:
        self.request("jointreset")

    def open_gripper(self) -> None:
        self.request("open_gripper")

    def close_gripper(self) -> None:
        self.request("close_gripper")

    def activate_gripper(self) -> None:
        self.request("activate_gripper")

    def set_load(self, mass: float, center: list[float], inertia: list[float]) -> None:
        self.request("set_load", {"mass": float(mass), "F_x_center_load": list(center),
                                  "load_inertia": list(inertia)})

    # ---- our simulator's routes --------------------------------------------------------------
    def camera(self, name: str = "main", size: int | None = None) -> np.ndarray:
        """A BGR uint8 frame from the server's camera route."""
        body = {"name": name} if size is None else {"name": name, "size": int(size)}
        data, headers = self.request("camera", body)
        try:
            shape = tuple(int(x) for x in headers.get("X-Shape", "").split(","))
            return np.frombuffer(data, np.uint8).reshape(shape)
        except ValueError as exc:
            raise RobotProtocolError(f"/camera: {len(data)} bytes do not match X-Shape "
                                     f"{headers.get('X-Shape')!r} ({exc})") from None

    def server_config(self) -> Optional[dict]:
        """The server's suggested client configuration, or None if it has no /config (a real robot)."""
        try:
            cfg = self._json("config")
        except RobotProtocolError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        if not isinstance(cfg, dict):
            raise RobotProtocolError("/config answered something other than a JSON object")
        return cfg

    def sim_reset(self, seed: int | None, start_stage: int = 0) -> dict:
        return self._json("sim_reset", {"seed": seed, "start_stage": int(start_stage)})
