"""Stopping `rldg demo` stops the commands it runs, with their own child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from trainers.demo.stages import CHILDREN, CommandLog, DemoError


def _running(marker: str) -> list[int]:
    """Pids of live processes whose command line mentions `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _wait_for(check, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_stop_ends_a_running_command_and_its_children_and_refuses_new_ones(tmp_path):
    marker = f"sleep 3{os.getpid() % 1000:03d}"  # a distinctive argv to find the grandchild by
    log = CommandLog(tmp_path / "commands.log")
    errors = []

    def run():
        try:
            log.run(["bash", "-c", f"{marker} & wait"], tmp_path / "log.txt")
        except DemoError as exc:
            errors.append(exc)

    CHILDREN.reset()
    thread = threading.Thread(target=run)
    thread.start()
    try:
        _wait_for(lambda: _running(marker))
        CHILDREN.stop(signal.SIGTERM)
        thread.join(30)
        assert not thread.is_alive() and "signal 15" in str(errors[0])
        _wait_for(lambda: not _running(marker), 10)  # the grandchild too
        with pytest.raises(DemoError, match="stopping"):
            log.run(["true"], tmp_path / "log.txt")
    finally:
        CHILDREN.reset()


def test_sigterm_to_rldg_demo_leaves_no_command_running(tmp_path):
    out = tmp_path / "demo_out"
    env = {**os.environ, "MUJOCO_GL": "egl", "TF_CPP_MIN_LOG_LEVEL": "2"}
    demo = subprocess.Popen([sys.executable, "-m", "rldg_data.cli", "demo", "--profile", "tiny", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _wait_for(lambda: _running(str(out)) and any(p != demo.pid for p in _running(str(out))), 120)
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(60) == 128 + signal.SIGTERM
        _wait_for(lambda: not _running(str(out)), 20)
    finally:
        if demo.poll() is None:
            demo.kill()
