"""Atomic file writes: write beside the target under a temporary name, then rename into place.

A reader (or a run killed mid-write) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Writes `text` (UTF-8) to `path` atomically, creating its folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def replace_dir(tmp: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Renames the finished folder `tmp` to `final`, replacing an existing `final`.

    Where the file system can (Linux renameat2 RENAME_EXCHANGE: ext4, xfs, btrfs, tmpfs) the two
    folders are exchanged in one step, so `final` is complete at every instant; the old one, now
    under `tmp`, is deleted afterwards. Elsewhere the old folder is first renamed aside
    (`.old-<name>-<random>`), then deleted after the new one is in place: a crash in between leaves
    no mixture, but for that instant no folder under `final`.
    """
    tmp, final = Path(tmp), Path(final)
    if final.exists() and exchange_dirs(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)
        return final
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def exchange_dirs(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Atomically swaps two existing paths (Linux renameat2 with RENAME_EXCHANGE).

    Returns False, touching nothing, where the kernel, C library or file system cannot; raises
    OSError for any other failure (a missing path, permissions).
    """
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), f"{a} <-> {b}")
