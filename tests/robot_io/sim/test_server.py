"""robot_io.sim.server: HIL-SERL's robot-server routes served by the MuJoCo suite (one server for
the module, in a child process), checked with plain HTTP requests."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import numpy as np
import pytest

from rldg_data.errors import RldgError
from robot_io.sim.server import SimServerConfig, spawned


@pytest.fixture(scope="module")
def server():
    with spawned("pick_place", "blue_block", "--wrist") as (url, proc):
        yield url


def post(url: str, route: str, body=None, raw: bytes | None = None, method: str = "POST"):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    conn.request(method, route, body=payload, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data, dict(resp.getheaders())


def state(url):
    status, data, _ = post(url, "/getstate")
    assert status == 200
    return json.loads(data)


def test_getstate_has_hil_serl_fields_and_shapes(server):
    s = state(server)
    shapes = {k: np.asarray(v).shape for k, v in s.items() if k != "sim"}
    assert shapes == {"pose": (7,), "vel": (6,), "force": (3,), "torque": (3,), "q": (7,), "dq": (7,),
                      "jacobian": (6, 7), "gripper_pos": ()}
    assert abs(np.linalg.norm(s["pose"][3:]) - 1) < 1e-6
    assert 0.0 <= s["gripper_pos"] <= 1.0
    assert set(s["sim"]) >= {"success", "stage", "privileged", "time"} and len(s["sim"]["privileged"]) == 17
    t0 = s["sim"]["time"]
    time.sleep(0.3)
    assert 0.2 < state(server)["sim"]["time"] - t0 < 0.6  # the simulator runs in real time between requests


def test_commands_answer_like_hil_serl(server):
    for route, text in [("/clearerr", b"Clear"), ("/activate_gripper", b"Activated"),
                        ("/update_param", b"Updated compliance parameters")]:
        status, data, _ = post(server, route, {"translational_stiffness": 2000} if route == "/update_param" else None)
        assert (status, data) == (200, text)
    status, data, _ = post(server, "/set_load", {"mass": 0.2, "F_x_center_load": [0, 0, 0], "load_inertia": [0] * 9})
    assert (status, data) == (200, b"Set Load")


def test_pose_moves_the_hand_and_gripper_routes_move_the_fingers(server):
    post(server, "/sim_reset", {"seed": 1})
    start = np.asarray(state(server)["pose"])
    target = start.copy()
    target[2] += 0.05
    assert post(server, "/pose", {"arr": target.tolist()})[:2] == (200, b"Moved")
    time.sleep(1.0)
    now = np.asarray(state(server)["pose"])
    assert abs(now[2] - target[2]) < 0.005 and np.linalg.norm(now[:2] - start[:2]) < 0.005
    assert post(server, "/close_gripper")[:2] == (200, b"Closed")
    time.sleep(0.8)
    assert state(server)["gripper_pos"] < 0.5
    assert post(server, "/open_gripper")[:2] == (200, b"Opened")
    time.sleep(0.8)
    assert state(server)["gripper_pos"] > 0.85


def test_bad_input_is_refused_and_does_not_move(server):
    before = np.asarray(state(server)["pose"])
    cases = [(None, b"{not json"), ({"arr": [0.1] * 6}, None), ({"arr": [float("nan")] + [0] * 6}, None),
             ({"arr": [0, 0.6, 0.2, 0, 0, 0, 0]}, None), ({"pos": [0] * 7}, None), ([1, 2], None)]
    for body, raw in cases:
        if raw is None:
            raw = json.dumps(body).replace("NaN", "NaN").encode()
        status, data, _ = post(server, "/pose", raw=raw)
        assert status == 400, (body, data)
    time.sleep(0.3)
    assert np.linalg.norm(np.asarray(state(server)["pose"])[:3] - before[:3]) < 0.003
    assert post(server, "/nope")[0] == 404
    assert post(server, "/getstate", method="GET")[0] == 405


def test_target_outside_the_workspace_is_clipped(server):
    s = np.asarray(state(server)["pose"])
    far = s.copy()
    far[0] = 5.0
    assert post(server, "/pose", {"arr": far.tolist()})[0] == 200
    time.sleep(1.5)
    config = json.loads(post(server, "/config")[1])
    assert state(server)["pose"][0] <= config["abs_pose_limit_high"][0] + 0.01
    post(server, "/jointreset")


def test_camera_route_gives_bgr_frames_of_both_cameras(server):
    for name in ("main", "wrist"):
        status, data, headers = post(server, "/camera", {"name": name})
        assert status == 200 and headers["X-Shape"] == "64,64,3" and len(data) == 64 * 64 * 3
    status, data, headers = post(server, "/camera", {"name": "main", "size": 32})
    assert headers["X-Shape"] == "32,32,3"
    assert post(server, "/camera", {"name": "top"})[0] == 400


def test_sim_reset_is_seeded(server):
    a = json.loads(post(server, "/sim_reset", {"seed": 5})[1])
    pa = state(server)["sim"]["privileged"]
    post(server, "/sim_reset", {"seed": 6})
    pb = state(server)["sim"]["privileged"]
    post(server, "/sim_reset", {"seed": 5})
    pc = state(server)["sim"]["privileged"]
    assert a["stage"] == 0
    assert np.allclose(pa[4:7], pc[4:7], atol=1e-3) and not np.allclose(pa[4:7], pb[4:7], atol=1e-3)
    assert post(server, "/sim_reset", {"seed": "x"})[0] == 400


def test_binds_loopback_unless_told_otherwise():
    with pytest.raises(RldgError, match="allow-remote"):
        SimServerConfig("insertion", "vga", host="0.0.0.0")
    assert SimServerConfig("insertion", "vga", host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    SimServerConfig("insertion", "vga", host="::1")
