"""Faults a robot server can show, injected into the simulated one (`python -m robot_io.sim.server
--fault KIND --fault-after N`), so the client's handling of each is tested on the real path.

At the first `/getstate` after `after` motion commands (`/pose`) the fault starts and stays (so a
fault never starts in the middle of a move the client cannot watch):
  slow        every `/getstate` answers `delay_s` late (past the control period, within the timeout)
  nan_pose    `/getstate` reports a pose holding NaN
  far_pose    `/getstate` reports a finite pose far outside any workspace (100 m up)
  bad_json    `/getstate` answers 200 with a body that is not JSON
  http_500    every route answers HTTP 500, as a crashed controller behind a live web server
  dead_camera `/camera` answers HTTP 503 (a camera that stopped delivering frames)
`/sim_faults` (never faulty) reports what the server saw: whether the fault started and how many
motion or gripper commands arrived after it (the client must send none).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any, Callable

KINDS = ("slow", "nan_pose", "far_pose", "bad_json", "http_500", "dead_camera")
MOTION_ROUTES = frozenset({"/pose", "/open_gripper", "/close_gripper", "/jointreset"})


class InjectedFault(Exception):
    """Raised by a faulty route; the handler answers it with `code` and `text`."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


@dataclasses.dataclass
class FaultPlan:
    """Which fault, after how many motion commands, and the counters `/sim_faults` reports."""

    kind: str = ""
    after: int = 5
    delay_s: float = 1.0
    motions: int = 0
    started: bool = False
    motions_after_fault: int = 0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.kind and self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}")

    def report(self) -> dict:
        return {"kind": self.kind, "after": self.after, "started": self.started, "motions": self.motions,
                "motions_after_fault": self.motions_after_fault}

    def wrap(self, route: str, handler: Callable[[Any], tuple]) -> Callable[[Any], tuple]:
        """`handler` of `route` with this plan's fault applied once it has started."""
        if not self.kind:
            return handler

        def faulty(body):
            with self._lock:
                if route in MOTION_ROUTES:
                    if self.started:
                        self.motions_after_fault += 1
                    self.motions += route == "/pose"
                elif route == "/getstate":
                    self.started = self.started or self.motions > self.after
                started = self.started
            if not started:
                return handler(body)
            return self._faulty_answer(route, handler, body)

        return faulty

    def _faulty_answer(self, route: str, handler, body) -> tuple:
        kind = self.kind
        if kind == "http_500":
            raise InjectedFault(500, "injected fault: controller error (HTTP 500)")
        if kind == "dead_camera" and route == "/camera":
            raise InjectedFault(503, "injected fault: camera delivers no frames")
        if route != "/getstate":
            return handler(body)
        if kind == "slow":
            time.sleep(self.delay_s)
            return handler(body)
        if kind == "bad_json":
            return 200, "application/json", b'{"pose": [0.5, 0.0, 0.2, 0, 0'
        code, ctype, payload = handler(body)[:3]
        state = json.loads(payload)
        if kind == "nan_pose":
            state["pose"][0] = float("nan")
        elif kind == "far_pose":
            state["pose"][2] = 100.0
        return code, ctype, json.dumps(state).encode()  # NaN written as JSON's NaN token, as Python's json does
