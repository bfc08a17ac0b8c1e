"""HIL-SERL's robot-server HTTP API served by our MuJoCo suite, so the Franka client runs without hardware.

    python -m robot_io.sim_server --task insertion --variant vga --port 5000

Routes are those of HIL-SERL's `franka_server.py` (every one POST, JSON in and out): `/getstate`
→ {pose [x,y,z,qx,qy,qz,qw], vel [6], force [3], torque [3], q [7], dq [7], jacobian [6x7],
gripper_pos}; `/pose` {"arr": [7]} sets the controller's equilibrium pose; `/clearerr`,
`/update_param`, `/jointreset`, `/open_gripper`, `/close_gripper`, `/activate_gripper`,
`/reset_gripper`, `/set_load`, and the single-field getters (`/getpos`, `/getvel`, ...). Ours only:
`/camera` {"name": "main"|"wrist"} → raw BGR bytes (header X-Shape "H,W,3"), as a RealSense gives
them; `/config` → the task's suggested client configuration (reset pose, safety box, scales);
`/sim_reset` {"seed", "start_stage"} → new object positions (on a real robot a person resets the
scene); `/getstate` adds {"sim": {success, stage, privileged, time}}.

One thread owns MuJoCo (EGL contexts and MjData are not shared across threads): it steps the
simulator in real time, one control tick (12.5 ms) at a time, servoing the hand towards the latest
equilibrium pose as an impedance controller with gravity compensation would (the hand reaches the
target; a blocked hand pushes with bounded force), and it renders and resets on behalf of request
threads. Bad input (malformed JSON, NaN, a wrong length) is answered 400 and logged; a target out
of the workspace is clipped and logged. The simulated hand's orientation is fixed by Meta-World's
mocap weld: orientation targets are validated but not simulated. Binds 127.0.0.1 unless
`--allow-remote` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import ipaddress
import json
import logging
import math
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rldg_data.errors import RldgError

log = logging.getLogger("robot_io.sim_server")

DOWN_EULER = (math.pi, 0.0, 0.0)  # Franka convention: the gripper pointing down, as (roll, pitch, yaw)
ARM_JOINTS = tuple(f"right_j{i}" for i in range(7))
SAG_Z = 0.005  # metres: how far the uncompensated hand hangs below the mocap body at rest


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
        if not self.allow_remote and not _is_loopback(self.host):
            raise RldgError(f"refusing to serve the robot API on {self.host!r}: anyone on that network "
                            f"could move the arm; bind 127.0.0.1 or pass --allow-remote")
        if not 0 <= self.port < 65536:
            raise RldgError(f"port {self.port} is not a TCP port")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BadRequest(Exception):
    """A request refused with HTTP 400 (the message says why)."""


def vector(payload: Any, key: str, n: int) -> np.ndarray:
    """payload[key] as n finite floats, or BadRequest naming the field."""
    if not isinstance(payload, dict) or key not in payload:
        raise BadRequest(f"body must be a JSON object with {key!r}")
    try:
        arr = np.asarray(payload[key], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{key!r} is not a list of numbers ({exc})") from None
    if arr.shape != (n,):
        raise BadRequest(f"{key!r} must hold {n} numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BadRequest(f"{key!r} holds NaN or infinity: {arr.tolist()}")
    return arr


class SimRobot:
    """The simulated arm: a thread that owns one `SimEnv` and runs its controller in real time."""

    def __init__(self, config: SimServerConfig) -> None:
        import robot_io
        from scipy.spatial.transform import Rotation

        self.config = config
        self.sim = robot_io.make(config.task, config.variant, image_size=config.image_size,
                                 wrist=config.wrist, render=True, seed=config.seed)
        # Images only on request, rendered in the simulator thread (an EGL context belongs to the
        # thread that made it): resets must not render in the caller's thread.
        self.sim.render_images = False
        # In the simulator itself the hand hangs about 5 mm below its mocap body (gravity against the
        # weld); here gravity is compensated and the hand reaches the mocap, so the mocap may go
        # SAG_Z lower for the hand to reach as low as it does there (this server's task only).
        task = self.sim._task
        task.mocap_low = np.asarray(task.mocap_low, dtype=np.float64) - np.array([0.0, 0.0, SAG_Z])
        from robot_io.sim_env import ACTION_SCALE, FRAME_SKIP

        self._action_scale = ACTION_SCALE
        self.tick_s = FRAME_SKIP * float(self.sim.model.opt.timestep)
        model = self.sim.model
        self._hand = model.body("hand").id
        self._subtree = [b for b in range(model.nbody) if self._in_subtree(b, self._hand)]
        self._dofs = [int(model.jnt_dofadr[model.joint(j).id]) for j in ARM_JOINTS]
        self._qpos = [int(model.jnt_qposadr[model.joint(j).id]) for j in ARM_JOINTS]
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sim.reset(seed=config.seed)
        hand_rot = Rotation.from_quat(self._hand_quat_xyzw())
        self._tcp_offset = hand_rot.inv() * Rotation.from_euler("xyz", DOWN_EULER)
        self._Rotation = Rotation
        self.home = np.concatenate([self.sim.hand_pos, Rotation.from_euler("xyz", DOWN_EULER).as_quat()])
        self._target = self.sim.hand_pos
        self._grip = 1.0  # +1 open, -1 closed (our action convention)
        self._success, self._ticks, self._overruns = False, 0, 0
        self.params: dict[str, Any] = {}
        self.load: dict[str, Any] = {}
        self._snapshot = self._state()
        self._thread = threading.Thread(target=self._run, name="sim-robot", daemon=True)
        self._thread.start()
        self.call(lambda: self.sim.render())  # creates the EGL context now (seconds), not on a request

    def _in_subtree(self, body: int, root: int) -> bool:
        while body > 0:
            if body == root:
                return True
            body = int(self.sim.model.body_parentid[body])
        return body == root

    def _hand_quat_xyzw(self) -> np.ndarray:
        w, x, y, z = self.sim.data.xquat[self._hand]
        return np.array([x, y, z, w])

    # ---- the simulator thread ----------------------------------------------------------------
    def _run(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            wait = next_tick - time.monotonic()
            try:
                fn, fut = self._jobs.get(timeout=max(wait, 0.0)) if wait > 0 else self._jobs.get_nowait()
            except queue.Empty:
                fn = None
            if fn is not None:
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # handed to the request thread
                    fut.set_exception(exc)
                continue
            self._tick()
            next_tick += self.tick_s
            late = time.monotonic() - next_tick
            if late > 0.1:  # a long stall (a reset, a slow render): resume real time, do not race
                self._overruns += 1
                next_tick = time.monotonic()
        self.sim.close()  # in the thread that created the renderer

    def _tick(self) -> None:
        sim = self.sim
        with self._lock:
            target, grip = self._target.copy(), self._grip
        # Gravity compensation of the arm's joints (as Franka's controller does): the hand then
        # settles on the equilibrium pose instead of sagging under the mocap weld.
        sim.data.qfrc_applied[self._dofs] = sim.data.qfrc_bias[self._dofs]
        delta = (target - sim.data.mocap_pos[0]) / self._action_scale
        action = np.append(np.clip(delta, -1.0, 1.0), grip)
        _, _, terminated, _, info = sim.step(action, _render=False)
        self._success = self._success or bool(info["success"])
        self._ticks += 1
        state = self._state()
        with self._lock:
            self._snapshot = state

    def _state(self) -> dict[str, Any]:
        import mujoco

        sim = self.sim
        model, data = sim.model, sim.data
        rot = self._Rotation.from_quat(self._hand_quat_xyzw()) * self._tcp_offset
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, self._hand, vel, 0)
        wrench = data.cfrc_ext[self._subtree].sum(axis=0)  # [torque, force], world frame, at the com
        jac_p, jac_r = np.zeros((3, model.nv)), np.zeros((3, model.nv))
        mujoco.mj_jacBody(model, data, jac_p, jac_r, self._hand)
        jacobian = np.vstack([jac_p, jac_r])[:, self._dofs]
        return {
            "pose": np.concatenate([sim.hand_pos, rot.as_quat()]).tolist(),
            "vel": np.concatenate([vel[3:], vel[:3]]).tolist(),
            "force": wrench[3:].tolist(), "torque": wrench[:3].tolist(),
            "q": data.qpos[self._qpos].tolist(), "dq": data.qvel[self._dofs].tolist(),
            "jacobian": jacobian.tolist(), "gripper_pos": float(sim.gripper_opening),
            "sim": {"success": bool(self._success), "stage": int(sim.stage), "time": float(data.time),
                    "privileged": sim.observation(images=False)["privileged_state"].tolist(),
                    "ticks": self._ticks, "overruns": self._overruns},
        }

    def call(self, fn: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Runs `fn` in the simulator thread between two ticks and returns its result."""
        if not self._thread.is_alive():
            raise RuntimeError("the simulator thread has stopped")
        fut: Future = Future()
        self._jobs.put((fn, fut))
        return fut.result(timeout=timeout)

    # ---- what the routes do ------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot

    def move(self, pose: np.ndarray) -> None:
        """Sets the equilibrium pose [x, y, z, qx, qy, qz, qw]; out-of-workspace targets are clipped."""
        norm = float(np.linalg.norm(pose[3:]))
        if not 0.9 < norm < 1.1:
            raise BadRequest(f"pose quaternion has norm {norm:.3f}, not 1")
        low, high = self.sim._task.mocap_low, self.sim._task.mocap_high
        xyz = np.clip(pose[:3], low, high)
        if not np.array_equal(xyz, pose[:3]):
            log.warning("pose target %s outside the workspace [%s, %s]: clipped to %s",
                        np.round(pose[:3], 4).tolist(), low.tolist(), high.tolist(), np.round(xyz, 4).tolist())
        with self._lock:
            self._target = xyz

    def gripper(self, opening: float) -> None:
        with self._lock:
            self._grip = float(opening)

    def reset_scene(self, seed: int | None, start_stage: int) -> dict[str, Any]:
        def job():
            self.sim.reset(seed=seed, start_stage=start_stage)
            hand = self.sim.hand_pos
            with self._lock:
                self._target, self._grip = hand, 1.0 if start_stage == 0 else self._grip_of_stage()
            self._success = False
            state = self._state()
            with self._lock:
                self._snapshot = state
            return {"stage": int(self.sim.stage), "pose": state["pose"]}
        return self.call(job)

    def _grip_of_stage(self) -> float:
        return 1.0 if self.sim.gripper_opening > 0.85 else -1.0

    def joint_reset(self, timeout: float = 3.0) -> None:
        """Back to the home pose, gripper open (HIL-SERL re-homes the joints; here: the hand)."""
        with self._lock:
            self._target, self._grip = self.home[:3].copy(), 1.0
        end = time.monotonic() + timeout
        while time.monotonic() < end and np.linalg.norm(np.asarray(self.state()["pose"][:3]) - self.home[:3]) > 0.005:
            time.sleep(0.02)

    def render(self, name: str, size: int | None) -> np.ndarray:
        from robot_io import scene

        cams = {"main": scene.MAIN_CAMERA, "wrist": scene.WRIST_CAMERA}
        if name not in cams:
            raise BadRequest(f"unknown camera {name!r}; known: {', '.join(cams)}")
        if size is not None and not (isinstance(size, int) and 8 <= size <= 1024):
            raise BadRequest(f"size must be an integer in 8..1024, got {size!r}")
        camera = self.sim.model.camera(cams[name]).id
        return self.call(lambda: self.sim.render(camera, size))

    def client_config(self) -> dict[str, Any]:
        """The client configuration that suits this task (FrankaEnvConfig fields)."""
        task = self.sim._task
        low = np.concatenate([task.mocap_low, [math.pi - 0.2, -0.2, -0.2]])
        high = np.concatenate([task.mocap_high, [math.pi, 0.2, 0.2]])
        return {
            "hz": self.config.hz, "reset_pose": list(self.home[:3]) + list(DOWN_EULER),
            "abs_pose_limit_low": low.tolist(), "abs_pose_limit_high": high.tolist(),
            "action_scale": [self._action_scale, 0.05, 1.0], "max_episode_steps": int(self.sim.max_episode_steps),
            "cameras": ["main", "wrist"] if self.config.wrist else ["main"], "image_size": self.config.image_size,
            "gripper_interval_s": 0.3, "reset_move_s": 0.3,
            "task": self.sim.task, "variant": self.sim.variant, "split": self.sim.split,
            "language_instruction": self.sim.language_instruction, "num_stages": int(self.sim.num_stages),
            "bottleneck_stage": int(self.sim.bottleneck_stage), "simulated": True,
        }

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _json_body(handler: BaseHTTPRequestHandler) -> Any:
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None


def make_handler(robot: SimRobot):
    """The request handler class serving `robot` (HTTP/1.1, keep-alive)."""

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
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                del body
                self._send(404, "text/plain", f"no route {self.path}".encode())
                return
            try:
                result = route(_json_body(self))
            except BadRequest as exc:
                log.warning("refused %s: %s", self.path, exc)
                self._send(400, "text/plain", str(exc).encode())
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

    def __init__(self, config: SimServerConfig) -> None:
        self.config = config
        self.robot = SimRobot(config)
        self.httpd = ThreadingHTTPServer((config.host, config.port), make_handler(self.robot))
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
    """Runs `python -m robot_io.sim_server` on a free loopback port in a child process (it renders
    with EGL, which must stay out of a process that imported TensorFlow); yields (url, process)
    once it serves, and stops it on exit. Its log goes to the child's stderr (drained here)."""
    repo = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("MUJOCO_GL", "egl")
    proc = subprocess.Popen([python, "-m", "robot_io.sim_server", "--task", task, "--variant", variant,
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
    p = argparse.ArgumentParser(prog="python -m robot_io.sim_server", description=__doc__.split("\n\n")[0],
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
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        config = SimServerConfig(args.task, args.variant, args.host, args.port, args.allow_remote,
                                 args.image_size, args.wrist, args.seed, args.hz)
        server = SimServer(config)
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
