"""One writer per folder: an advisory lock (flock) a command holds while it writes there.

Two collectors pointed at one log folder would interleave episodes of two runs; the second is
refused at once, naming the holder's process id, instead of waiting. The lock is the kernel's
(`fcntl.flock` on `FOLDER/.rldg-lock`), so a writer killed by any signal, SIGKILL included,
releases it: a stale lock file never blocks a later run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import Iterator

from rldg_data.errors import OutputRefusedError

LOCK_FILE = ".rldg-lock"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, command: str) -> Iterator[Path]:
    """Holds the write lock of `folder` (created if missing) for the block; OutputRefusedError
    naming the other process when another command holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise OutputRefusedError(f"{folder} is being written by {holder}: `{command}` refuses to write "
                                     "into it at the same time; wait for it to finish or give another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"`{command}` (pid {os.getpid()})\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing releases the lock
