"""robot_io.franka pieces without a simulator: the HTTP client against small scripted servers,
state validation, the safety box, the loop clock, the config, cameras and the SpaceMouse rule."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rldg_data.errors import (CameraTimeoutError, RldgError, RobotConnectionError, RobotProtocolError,
                              UnavailableError)
from robot_io.cameras import Camera, crop_resize
from robot_io.franka.client import FrankaClient, RobotState, check_pose
from robot_io.franka.config import FrankaEnvConfig
from robot_io.franka.env import LoopClock, clip_safety_box
from robot_io.franka.spacemouse import SpaceMouseReading, intervention_action

GOOD_STATE = {"pose": [0.5, 0, 0.3, 1, 0, 0, 0], "vel": [0] * 6, "force": [0] * 3, "torque": [0] * 3,
              "q": [0] * 7, "dq": [0] * 7, "jacobian": [[0] * 7] * 6, "gripper_pos": 1.0}


class Scripted:
    """A tiny HTTP server answering each route with a scripted (status, body) and counting calls."""

    def __init__(self, answers: dict):
        self.answers, self.calls = answers, []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.calls.append((self.path, self.rfile.read(n)))
                status, body = outer.answers.get(self.path, (404, b"no"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make(answers):
        servers.append(Scripted(answers))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_state_is_validated_field_by_field():
    assert RobotState.from_json(GOOD_STATE).jacobian.shape == (6, 7)
    for key, value, words in [("pose", [0] * 6, "shape"), ("vel", [float("nan")] * 6, "NaN"),
                              ("pose", [0, 0, 0, 0, 0, 0, 0], "quaternion"), ("q", "x", "numeric")]:
        with pytest.raises(RobotProtocolError, match=f"{key}.*{words}|{words}.*{key}|{key}"):
            RobotState.from_json({**GOOD_STATE, key: value})
    broken = dict(GOOD_STATE)
    del broken["force"]
    with pytest.raises(RobotProtocolError, match="'force' is missing"):
        RobotState.from_json(broken)


def test_a_pose_with_nan_or_a_bad_quaternion_is_never_sent(scripted):
    srv = scripted({"/clearerr": (200, b"Clear"), "/pose": (200, b"Moved")})
    client = FrankaClient(srv.url)
    for bad in ([0, 0, float("nan"), 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 2], [0] * 6):
        with pytest.raises(RobotProtocolError):
            client.send_pose(bad)
    assert srv.calls == []
    client.send_pose([0.1, 0.2, 0.3, 0, 0, 0, 1])
    assert [c[0] for c in srv.calls] == ["/clearerr", "/pose"]  # HIL-SERL clears errors before a pose
    assert json.loads(srv.calls[1][1]) == {"arr": pytest.approx([0.1, 0.2, 0.3, 0, 0, 0, 1])}
    with pytest.raises(RobotProtocolError):
        check_pose([1, 2, 3])
    with pytest.raises(RobotProtocolError, match="not finite JSON"):
        client.update_param({"translational_stiffness": float("inf")})
    assert [c[0] for c in srv.calls] == ["/clearerr", "/pose"]


def test_malformed_answers_are_protocol_errors(scripted):
    srv = scripted({"/getstate": (200, b"{oops"), "/camera": (200, b"abc"), "/config": (404, b"Not Found")})
    client = FrankaClient(srv.url)
    with pytest.raises(RobotProtocolError, match="malformed JSON"):
        client.get_state()
    with pytest.raises(RobotProtocolError, match="X-Shape"):
        client.camera()
    assert client.server_config() is None  # a real robot server has no /config
    srv.answers["/getstate"] = (200, json.dumps({**GOOD_STATE, "pose": [float("nan")] * 7}).encode())
    with pytest.raises(RobotProtocolError, match="NaN"):
        client.get_state()
    srv.answers["/getstate"] = (500, b"boom")
    with pytest.raises(RobotProtocolError, match="HTTP 500"):
        client.get_state()


def test_connections_are_retried_but_a_pose_never(monkeypatch):
    client = FrankaClient(f"http://127.0.0.1:{free_port()}/", timeout=0.5, retries=2, backoff=0.01)
    attempts = []
    real = client._conn
    monkeypatch.setattr(client, "_conn", lambda: (attempts.append(1), real())[1])
    with pytest.raises(RobotConnectionError, match="after 3 attempts"):
        client.get_state()
    assert len(attempts) == 3
    attempts.clear()
    with pytest.raises(RobotConnectionError, match="never sent twice"):
        client.request("pose", {"arr": [0, 0, 0, 0, 0, 0, 1]})
    assert len(attempts) == 1
    with pytest.raises(RobotConnectionError):
        FrankaClient("ftp://x")


def test_a_silent_server_times_out():
    with socket.socket() as s:  # accepts connections, never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        client = FrankaClient(f"http://127.0.0.1:{s.getsockname()[1]}/", timeout=0.3, retries=0)
        t = time.monotonic()
        with pytest.raises(RobotConnectionError, match="timed out"):
            client.get_state()
        assert time.monotonic() - t < 2.0


def test_safety_box_clips_position_and_orientation():
    low = np.array([0.3, -0.2, 0.1, math.pi - 0.3, -0.2, -0.4])
    high = np.array([0.7, 0.2, 0.5, math.pi, 0.2, 0.4])
    inside = np.concatenate([[0.5, 0, 0.3], Rotation.from_euler("xyz", [math.pi, 0.1, 0.2]).as_quat()])
    assert np.allclose(np.abs(clip_safety_box(inside, low, high)), np.abs(inside), atol=1e-9)
    tilted = np.concatenate([[0.9, -0.5, 0.0], Rotation.from_euler("xyz", [-(math.pi - 0.6), 0.5, -1.0]).as_quat()])
    out = clip_safety_box(tilted, low, high)
    assert np.allclose(out[:3], [0.7, -0.2, 0.1])
    euler = Rotation.from_quat(out[3:]).as_euler("xyz")
    assert math.isclose(abs(euler[0]), math.pi - 0.3, abs_tol=1e-6) and euler[0] < 0  # |roll| clipped, sign kept
    assert np.allclose(euler[1:], [0.2, -0.4], atol=1e-6)


def test_loop_clock_sleeps_out_the_period_and_counts_overruns():
    clock = LoopClock(0.05)
    clock.start()
    periods, overruns = [], 0
    for i in range(8):
        time.sleep(0.08 if i == 3 else 0.01)  # one step of work longer than the period
        elapsed, overran = clock.wait()
        periods.append(elapsed)
        overruns += overran
    assert overruns == 1
    assert abs(np.median(periods) - 0.05) < 0.005 and periods[3] > 0.075


def test_config_from_file_and_merge_precedence(tmp_path):
    path = tmp_path / "robot.json"
    path.write_text(json.dumps({"url": "http://10.0.0.2:5000/", "hz": 15, "cameras": [
        {"name": "wrist_1", "kind": "realsense", "serial": "130322274175", "crop": [0, 400, 80, 560]}]}))
    cfg = FrankaEnvConfig.from_file(path)
    assert cfg.hz == 15 and cfg.cameras[0].crop == (0, 400, 80, 560)
    with pytest.raises(RldgError, match="reset_pose"):
        cfg.require_motion_limits()
    merged = cfg.merged({"hz": 10, "reset_pose": [0.5, 0, 0.3, math.pi, 0, 0], "max_episode_steps": 50},
                        {"hz": 15})
    assert merged.hz == 15 and merged.reset_pose[0] == 0.5 and merged.max_episode_steps == 50
    path.write_text(json.dumps({"url": "x", "hx": 10}))
    with pytest.raises(RldgError, match="unknown key"):
        FrankaEnvConfig.from_file(path)
    with pytest.raises(RldgError, match="6 finite"):
        FrankaEnvConfig(reset_pose=(0, 0, float("nan"), 0, 0, 0))
    with pytest.raises(RldgError, match="serial"):
        FrankaEnvConfig.from_dict({"cameras": [{"name": "w", "kind": "realsense"}]})


class Frames:
    """A frame source giving numbered BGR frames (blue channel = frame number), or freezing."""

    name = "scripted"

    def __init__(self, freeze_after: int = 10**9):
        self.n, self.freeze_after = 0, freeze_after

    def grab(self):
        if self.n >= self.freeze_after:
            time.sleep(10)
        self.n += 1
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[..., 0] = self.n  # B
        frame[..., 2] = 200  # R
        return frame

    def close(self):
        pass


def test_camera_crops_resizes_and_converts_bgr_to_rgb():
    cam = Camera(Frames(), size=32, crop=(0, 48, 8, 56))
    rgb = cam.read()
    assert rgb.shape == (32, 32, 3) and rgb.dtype == np.uint8
    assert (rgb[..., 0] == 200).all() and (rgb[..., 2] == 1).all()
    assert crop_resize(np.zeros((10, 20, 3), np.uint8), None, 10).shape == (10, 10, 3)
    with pytest.raises(RldgError):
        crop_resize(np.zeros((10, 20), np.uint8), None, 10)


def test_latest_frame_reader_gives_new_frames_and_times_out_on_a_frozen_camera():
    cam = Camera(Frames(freeze_after=5), size=16, fps=100, timeout=0.5)
    first = int(cam.read()[0, 0, 2])
    time.sleep(0.1)
    latest = int(cam.read()[0, 0, 2])
    assert latest > first and latest == 5  # the newest frame, not the next queued one
    t = time.monotonic()
    with pytest.raises(CameraTimeoutError, match="no new frame"):
        cam.read()
    assert 0.4 < time.monotonic() - t < 2.0
    cam._reader._stop.set()


def test_realsense_without_pyrealsense2_is_unavailable():
    pytest.importorskip("pytest")
    import importlib.util

    if importlib.util.find_spec("pyrealsense2") is None:
        from robot_io.cameras.realsense import RealSenseSource

        with pytest.raises(UnavailableError, match=r"rldg-data\[realsense\]"):
            RealSenseSource("wrist", "130322274175")
    else:
        pytest.skip("pyrealsense2 is installed here")


def test_spacemouse_rule_is_hil_serls():
    idle = SpaceMouseReading(np.zeros(6))
    assert intervention_action(idle, gripper_open=True) is None
    tiny = SpaceMouseReading(np.array([0.0005, 0, 0, 0, 0, 0]))
    assert intervention_action(tiny, True) is None  # norm <= 0.001: the policy keeps acting
    moved = intervention_action(SpaceMouseReading(np.array([0, 0.002, 0, 0, 0, 0])), gripper_open=False)
    assert moved is not None and moved[1] == pytest.approx(0.002) and moved[6] == -1  # gripper held closed
    assert intervention_action(SpaceMouseReading(np.zeros(6), (True, False)), True)[6] == -1  # left closes
    assert intervention_action(SpaceMouseReading(np.zeros(6), (False, True)), False)[6] == 1  # right opens
    assert np.all(intervention_action(SpaceMouseReading(np.full(6, 3.0)), True)[:6] == 1)
