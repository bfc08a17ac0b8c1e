"""HIL-SERL's robot-server HTTP API served by our MuJoCo suite, so the Franka client runs without hardware.

    python -m robot_io.sim.server --task insertion --variant vga --port 5000

Routes are those of HIL-SERL's `franka_server.py` (every one POST, JSON in and out): `/getstate`
→ {pose [x,y,z,qx,qy,qz,qw], vel [6], force [3], torque [3], q [7], dq [7], jacobian [6x7],
gripper_pos}; `/pose` {"arr": [7]} sets the controller's equilibrium pose; `/clearerr`,
`/update_param`, `/jointreset`, `/open_gripper`, `/close_gripper`, `/activate_gripper`,
`/reset_gripper`, `/set_load`, and the single-field getters (`/getpos`, `/getvel`, ...). Ours only:
`/camera` {"name": "main"|"wrist"} → raw BGR bytes (header X-Shape "H,W,3"), as a RealSense gives
them; `/config` → the task's suggested client configuration (reset pose, safety box, scales);
`/sim_reset` {"seed", "start_stage"} → new object positions (on a real robot a person resets the
scene); `/getstate` adds {"sim": {success, stage, privileged, time}}.

The simulated arm (`robot_io.sim.robot.SimRobot`) runs its controller in real time between
requests, as a robot's impedance controller does. Bad input (malformed JSON, NaN, a wrong length) is answered 400 and logged; a target out
of the workspace is clipped and logged. Orientation targets are validated but not simulated (the
hand's orientation is fixed by Meta-World's mocap weld). Binds 127.0.0.1 unless
`--allow-remote` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rldg_data.errors import RldgError
from rldg_data.io.loopback import check_bind
from robot_io.sim.faults import KINDS, FaultPlan, InjectedFault
from robot_io.sim.robot import BadRequest, SimRobot, vector

log = logging.getLogger("robot_io.sim.server")


@dataclasses.dataclass(frozen=True)
class SimServerConfig:
    """What to simulate and where to serve it."""

    task: str
    variant: str
    host: str = "127.0.0.1"
    port: int = 5000
    allow_remote: bool = False
    image_size: int = 64
    wrist: bool = False
    seed: int = 0
    hz: float = 10.0  # the client loop rate suggested in /config

    def __post_init__(self) -> None:
        check_bind(self.host, self.port, self.allow_remote, "move the arm through the robot API")


def _json_body(handler: BaseHTTPRequestHandler) -> Any:
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None


def make_handler(robot: SimRobot, faults: FaultPlan | None = None):
    """The request handler class serving `robot` (HTTP/1.1, keep-alive); `faults` injects a fault
    (robot_io.sim.faults) for testing clients."""
    faults = faults or FaultPlan()

    def text(msg: str):
        return 200, "text/plain", msg.encode()

    def js(obj: Any):
        return 200, "application/json", json.dumps(obj).encode()

    def field(key: str):
        return lambda body: js({key: robot.state()[key]})

    def pose(body):
        robot.move(vector(body, "arr", 7))
        return text("Moved")

    def set_load(body):
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object {mass, F_x_center_load, load_inertia}")
        mass = vector(body, "mass", 1) if isinstance(body.get("mass"), list) else vector({"m": [body.get("mass")]}, "m", 1)
        robot.load = {"mass": float(mass[0]), "F_x_center_load": vector(body, "F_x_center_load", 3).tolist(),
                      "load_inertia": vector(body, "load_inertia", 9).tolist()}
        return text("Set Load")

    def update_param(body):
        if not isinstance(body, dict) or not all(isinstance(v, (int, float, bool)) for v in body.values()):
            raise BadRequest("body must be a JSON object of numbers (compliance parameters)")
        robot.params.update(body)
        return text("Updated compliance parameters")

    def camera(body):
        body = body or {}
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object {name, size}")
        img = robot.render(str(body.get("name", "main")), body.get("size"))
        bgr = np.ascontiguousarray(img[..., ::-1])
        return 200, "application/octet-stream", bgr.tobytes(), {"X-Shape": ",".join(map(str, bgr.shape))}

    def sim_reset(body):
        body = body or {}
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object {seed, start_stage}")
        seed, stage = body.get("seed"), body.get("start_stage", 0)
        if seed is not None and not isinstance(seed, int) or not isinstance(stage, int):
            raise BadRequest(f"seed must be an integer or null and start_stage an integer, got {seed!r}, {stage!r}")
        try:
            return js(robot.reset_scene(seed, stage))
        except RldgError as exc:
            raise BadRequest(str(exc)) from None

    def euler_pose(body):
        s = robot.state()["pose"]
        from scipy.spatial.transform import Rotation
        return js({"pose": s[:3] + Rotation.from_quat(s[3:]).as_euler("xyz").tolist()})

    def joint_reset(body):
        robot.joint_reset()
        return text("Reset Joint")

    routes: dict[str, Callable[[Any], tuple]] = {
        "/getstate": lambda body: js(robot.state()),
        "/pose": pose,
        "/clearerr": lambda body: text("Clear"),
        "/update_param": update_param,
        "/jointreset": joint_reset,
        "/open_gripper": lambda body: (robot.gripper(1.0), text("Opened"))[1],
        "/close_gripper": lambda body: (robot.gripper(-1.0), text("Closed"))[1],
        "/activate_gripper": lambda body: text("Activated"),
        "/reset_gripper": lambda body: (robot.gripper(1.0), text("Reset"))[1],
        "/set_load": set_load,
        "/startimp": lambda body: text("Started impedance"),
        "/stopimp": lambda body: text("Stopped impedance"),
        "/getpos": lambda body: js({"pose": robot.state()["pose"]}),
        "/getpos_euler": euler_pose,
        "/getvel": field("vel"), "/getforce": field("force"), "/gettorque": field("torque"),
        "/getq": field("q"), "/getdq": field("dq"), "/getjacobian": field("jacobian"),
        "/get_gripper": lambda body: js({"gripper": robot.state()["gripper_pos"]}),
        "/camera": camera,
        "/config": lambda body: js(robot.client_config()),
        "/sim_reset": sim_reset,
    }
    routes = {name: faults.wrap(name, route) for name, route in routes.items()}
    routes["/sim_faults"] = lambda body: js(faults.report())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls
        server_version = "rldg-sim-robot/1"

        def _send(self, code: int, ctype: str, payload: bytes, headers: dict | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            route = routes.get(self.path.split("?")[0].rstrip("/") or "/")
            if route is None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))  # keep the connection usable
                self._send(404, "text/plain", f"no route {self.path}".encode())
                return
            try:
                result = route(_json_body(self))
            except BadRequest as exc:
                log.warning("refused %s: %s", self.path, exc)
                self._send(400, "text/plain", str(exc).encode())
                return
            except InjectedFault as exc:
                log.warning("%s: %s", self.path, exc)
                self._send(exc.code, "text/plain", str(exc).encode())
                return
            except Exception as exc:  # the simulator failed: say so, keep serving
                log.exception("%s failed", self.path)
                self._send(500, "text/plain", f"{type(exc).__name__}: {exc}".encode())
                return
            try:
                self._send(*result)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                log.warning("client of %s left before the answer", self.path)

        def do_GET(self) -> None:  # noqa: N802
            self._send(405, "text/plain", b"every route of this API is POST")

        def log_message(self, fmt: str, *args) -> None:
            log.debug("%s " + fmt, self.address_string(), *args)

    return Handler


class SimServer:
    """The HTTP server and its simulated robot; `url` once started. Use as a context manager."""

    def __init__(self, config: SimServerConfig, faults: FaultPlan | None = None) -> None:
        self.config = config
        self.robot = SimRobot(config)
        self.faults = faults or FaultPlan()
        self.httpd = ThreadingHTTPServer((config.host, config.port), make_handler(self.robot, self.faults))
        self.httpd.daemon_threads = True
        self.url = f"http://{config.host}:{self.httpd.server_address[1]}/"
        self._thread: threading.Thread | None = None

    def start(self) -> "SimServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sim-http", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.robot.close()

    def __enter__(self) -> "SimServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def spawned(task: str, variant: str, *args: str, timeout: float = 120.0, python: str = sys.executable):
    """Runs `python -m robot_io.sim.server` on a free loopback port in a child process (it renders
    with EGL, which must stay out of a process that imported TensorFlow); yields (url, process)
    once it serves, and stops it on exit. Its log goes to the child's stderr (drained here)."""
    repo = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("MUJOCO_GL", "egl")
    proc = subprocess.Popen([python, "-m", "robot_io.sim.server", "--task", task, "--variant", variant,
                             "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not first or not first[0].startswith("serving "):
        proc.kill()
        raise RldgError(f"the sim server did not start within {timeout:.0f} s: "
                        f"{(proc.stderr.read() or '')[-2000:]}")
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    try:
        yield first[0].split()[1], proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m robot_io.sim.server", description=__doc__.split("\n\n")[0],
                                epilog="Prints 'serving URL' on stdout once ready.")
    p.add_argument("--task", required=True)
    p.add_argument("--variant", required=True)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="TCP port (0: any free one; default 5000)")
    p.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--wrist", action="store_true", help="also serve the wrist camera")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hz", type=float, default=10.0, help="client loop rate suggested in /config")
    p.add_argument("--fault", choices=KINDS, default="",
                   help="inject this fault after --fault-after motion commands (testing clients; see robot_io.sim.faults)")
    p.add_argument("--fault-after", type=int, default=5, help="motion commands before the fault starts (default 5)")
    p.add_argument("--fault-delay", type=float, default=1.0, help="seconds each answer is late with --fault slow")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        config = SimServerConfig(args.task, args.variant, args.host, args.port, args.allow_remote,
                                 args.image_size, args.wrist, args.seed, args.hz)
        server = SimServer(config, FaultPlan(args.fault, args.fault_after, args.fault_delay))
    except (RldgError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"serving {server.url} ({args.task}/{args.variant})", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.robot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
