"""The demo's stages call the toolkit the way a user does: `rldg ...` and `tfds build ...` commands.

Each runs in its own process, for two reasons: a process that has imported TensorFlow crashes when
MuJoCo creates an EGL context (so collection and evaluation must not share one with dataset
building), and the commands a run executed are then exactly the ones a user can copy from
`commands.log`. Output goes to a per-stage log file; a failure raises `DemoError` with its tail.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

from rldg_data.errors import DemoError

REPO = Path(__file__).resolve().parents[2]
BUILDERS = REPO / "builders"


def rldg(*args: str) -> list[str]:
    """The argv of an `rldg` subcommand, run with this interpreter (the venv's)."""
    return [sys.executable, "-m", "rldg_data.cli", *args]


def tfds_build(builder: str, data_dir: Path, *args: str) -> list[str]:
    """The argv of `tfds build builders/<builder> --data_dir DATA_DIR ...`."""
    return [sys.executable, "-m", "tensorflow_datasets.scripts.cli.main", "build",
            str(BUILDERS / builder), "--data_dir", str(data_dir), *args]


def tfds_config(name: str, **values) -> str:
    """A JSON builder config for `tfds build --config`."""
    return json.dumps({"name": name, **values})


class _Children:
    """The commands running now, each in its own process group (its workers included), so that
    stopping the demo stops all of them: a SIGTERM to `rldg demo` alone would leave them running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen] = set()
        self.stopping = threading.Event()

    def start(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        with self._lock:
            if self.stopping.is_set():
                raise DemoError(f"the demo is stopping; not starting {argv[2:4]}")
            proc = subprocess.Popen(list(argv), start_new_session=True, **kwargs)
            self._live.add(proc)
        return proc

    def done(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.discard(proc)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Sends `sig` to every running command's process group; no command starts afterwards."""
        with self._lock:
            self.stopping.set()
            live = [p for p in self._live if p.poll() is None]
        for proc in live:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

    def reset(self) -> None:
        self.stopping.clear()


CHILDREN = _Children()


class CommandLog:
    """Runs commands, appending each (with its duration and exit status) to `commands.log`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def run(self, argv: Sequence[str], log_file: Path, env: Optional[Mapping[str, str]] = None) -> None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, "PYTHONPATH": _pythonpath(), "TF_CPP_MIN_LOG_LEVEL": "2",
                    "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"), **dict(env or {})}
        shown = " ".join(shlex.quote(a) for a in argv).replace(sys.executable, "python")
        start = time.monotonic()
        with open(log_file, "ab") as out:
            out.write(f"$ {shown}\n".encode())
            out.flush()
            proc = CHILDREN.start(argv, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=REPO)
            try:
                code = proc.wait()
            finally:
                CHILDREN.done(proc)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"{shown}  # exit {code}, {time.monotonic() - start:.0f} s\n")
        if code != 0:
            if code < 0 or code == 130:
                raise KeyboardInterrupt if code in (-2, 130) else DemoError(
                    f"command killed by signal {-code}: {shown}\n(log: {log_file})")
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-25:])
            raise DemoError(f"command failed with exit status {code}: {shown}\nlast lines of {log_file}:\n{tail}")


def _pythonpath() -> str:
    """The builders' parent folder must be importable by Beam workers (see shared NOTES)."""
    parts = [str(REPO), str(BUILDERS)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(parts))
