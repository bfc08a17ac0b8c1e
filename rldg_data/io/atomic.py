"""Atomic, durable writes: write beside the target under a temporary name, flush, then rename.

A reader (or a run killed mid-write) sees the old file or the new one, never half of one; and
because file data and the folder entry are flushed (fsync) at each publish point, a power cut after
the rename cannot leave an empty or truncated file under the final name. The one place in the
project that writes a file or publishes a folder for others to read. `RLDG_FSYNC=0` turns the
flushes off (for measuring their cost; BENCHMARKS.md "fsync").
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

from rldg_data.io.space import space_errors


def durable() -> bool:
    """Whether publish points flush to disk (on unless RLDG_FSYNC=0)."""
    return os.environ.get("RLDG_FSYNC", "1") != "0"


def fsync_file(path: str | os.PathLike) -> None:
    """Flushes a file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Flushes a folder's entries (names created or renamed in it) to disk, where the OS can."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; nothing more can be done there
        pass
    finally:
        os.close(fd)


def fsync_tree(root: str | os.PathLike) -> None:
    """Flushes every file and folder under `root` (before the folder is published by a rename)."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            fsync_file(os.path.join(folder, name))
        fsync_dir(folder)


def temp_name(path: str | os.PathLike) -> Path:
    """A unique hidden name beside `path` for writing it aside (same folder, so the rename is
    atomic; same suffix, so writers that pick a format from the name still do)."""
    path = Path(path)
    return path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `path`; on success flushes it and renames it to `path`.

    On an exception the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        with space_errors(path, path.name):
            yield tmp
            if durable():
                fsync_file(tmp)
            os.replace(tmp, path)
            if durable():
                fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Writes `data` to `path` atomically and durably, creating its folder if needed."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Writes `text` (UTF-8) to `path` atomically and durably, creating its folder if needed."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, data) -> Path:
    """Writes `data` as indented, key-sorted JSON to `path` atomically and durably."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True))


@contextlib.contextmanager
def staged_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Yields a new empty folder beside `final`; on success publishes it as `final` (replace_dir).

    On an exception (Ctrl-C included) the staged folder is deleted and `final` is left as it was.
    Whether `final` may be replaced is the caller's decision, made before (`io.outputs`).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    tmp.mkdir()
    try:
        with space_errors(final, final.name):
            yield tmp
            replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_dir(tmp: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Renames the finished folder `tmp` to `final`, replacing an existing `final`.

    Where the file system can (Linux renameat2 RENAME_EXCHANGE: ext4, xfs, btrfs, tmpfs) the two
    folders are exchanged in one step, so `final` is complete at every instant; the old one, now
    under `tmp`, is deleted afterwards. Elsewhere the old folder is first renamed aside
    (`.old-<name>-<random>`), then deleted after the new one is in place: a crash in between leaves
    no mixture, but for that instant no folder under `final`. Every file in `tmp` is flushed to
    disk before the swap, and the parent folder's entry after it.
    """
    tmp, final = Path(tmp), Path(final)
    if durable():
        fsync_tree(tmp)
    if final.exists() and exchange_dirs(tmp, final):
        if durable():
            fsync_dir(final.parent)
        shutil.rmtree(tmp, ignore_errors=True)
        return final
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    if durable():
        fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def publish_new_dir(tmp: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Renames the finished folder `tmp` to `final` only if nothing is there (or an empty folder).

    One rename(2), so of two writers publishing the same name at once exactly one wins; the other
    gets FileExistsError and its `tmp` is left for the caller to delete. Flushed as replace_dir is.
    """
    tmp, final = Path(tmp), Path(final)
    if durable():
        fsync_tree(tmp)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tmp, final)  # onto an empty folder: replaces it; onto a non-empty one: ENOTEMPTY
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise FileExistsError(errno.EEXIST, "already exists", str(final)) from None
        raise
    if durable():
        fsync_dir(final.parent)
    return final


def exchange_dirs(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Atomically swaps two existing paths (Linux renameat2 with RENAME_EXCHANGE).

    Returns False, touching nothing, where the kernel, C library or file system cannot; raises
    OSError for any other failure (a missing path, permissions).
    """
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
