"""How far a mix's Beam passes are, seen from the driver on any runner: one marker file per task.

The passes run in Beam workers (this process, forked workers, Dask workers), whose counters the
driver sees only when a run ends; what every runner shares is the work folder. So each task, when
it finishes, leaves an empty marker `<work>/.progress/<pass>-<task>` (named after the task: a
retried task does not count twice), and a thread in the driver counts them while the pass runs and
reports what is new through `progress(n)` (the CLI passes a progress bar's `update`). The markers
are removed when the passes end, before the folder is published. Without a `progress` callable
nothing is watched (library calls, `tfds build`); markers cost one empty file per task.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Callable, Optional

MARKER_DIR = ".progress"
POLL_S = 0.25


def mark_done(folder: str | os.PathLike, pass_name: str, task: int) -> None:
    """Records that `task` of `pass_name` finished (called by the task, in its worker)."""
    where = os.path.join(folder, MARKER_DIR)
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, f"{pass_name}-{task:06d}"), "wb"):
        pass


def count_done(folder: str | os.PathLike, pass_name: str) -> int:
    """Tasks of `pass_name` that have finished so far."""
    try:
        with os.scandir(os.path.join(folder, MARKER_DIR)) as entries:
            return sum(1 for e in entries if e.name.startswith(f"{pass_name}-"))
    except FileNotFoundError:
        return 0


def clear(folder: str | os.PathLike) -> None:
    """Removes the markers (before the folder is published)."""
    shutil.rmtree(Path(folder) / MARKER_DIR, ignore_errors=True)


class Watch:
    """`with Watch(folder, "build", progress): run the pass` reports each finished task once through
    `progress(n)` (n new tasks), polling every POLL_S seconds and once more at the end."""

    def __init__(self, folder: str | os.PathLike, pass_name: str,
                 progress: Optional[Callable[[int], None]]) -> None:
        self.folder, self.pass_name, self.progress = folder, pass_name, progress
        self._seen, self._stop = 0, threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _report(self) -> None:
        done = count_done(self.folder, self.pass_name)
        if done > self._seen:
            self.progress(done - self._seen)
            self._seen = done

    def _poll(self) -> None:
        while not self._stop.wait(POLL_S):
            self._report()

    def __enter__(self) -> "Watch":
        if self.progress is not None:
            self._thread = threading.Thread(target=self._poll, name=f"mix-progress-{self.pass_name}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        if exc_type is None:
            self._report()
