"""A full disk as a one-line error: ENOSPC, EFBIG and EDQUOT turned into OutOfSpaceError.

A write that runs out of space fails deep inside Python, TensorFlow, Beam or envlogger, often with
no file name (a `write()` on an open file) or re-raised by a pipeline runner as another exception
whose text holds the OS message. `space_errors(path, what)` wraps a publishing step: any such
failure, however wrapped, leaves as `OutOfSpaceError` naming the path and what was being written.
The writers under it already delete their temporaries on the way out (io.atomic), so the message
can say that nothing half-written was kept. Python ignores SIGXFSZ, so a file-size limit
(`ulimit -f`, `prlimit --fsize`) shows up as EFBIG here rather than killing the process.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from typing import Iterator, Optional

from rldg_data.errors import OutOfSpaceError

SPACE_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_SPACE_TEXTS = {os.strerror(e) for e in SPACE_ERRNOS}


def space_reason(exc: BaseException) -> Optional[str]:
    """The OS message ("No space left on device", "File too large", ...) when `exc`, its cause
    chain or its text says a write ran out of space; None otherwise."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OutOfSpaceError):
            return exc.reason  # an inner step's: the outer one names the path the user gave
        if isinstance(exc, OSError) and exc.errno in SPACE_ERRNOS:
            return os.strerror(exc.errno)
        text = str(exc)
        for known in _SPACE_TEXTS:
            if known in text:
                return known
        exc = exc.__cause__ or exc.__context__
    return None


def out_of_space(path: str | os.PathLike, what: str, reason: str) -> OutOfSpaceError:
    error = OutOfSpaceError(f"{path}: {reason} while writing {what}; nothing half-written was kept "
                            f"and what was there before is unchanged: free some space (or raise the "
                            f"file-size limit) and run the command again")
    error.reason = reason
    return error


@contextlib.contextmanager
def space_errors(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Re-raises a failure for want of space inside the block as OutOfSpaceError(path, what)."""
    try:
        yield
    except BaseException as exc:
        reason = space_reason(exc)
        if reason is None:
            raise
        raise out_of_space(path, what, reason) from exc


class _DropSpaceErrorLogs(logging.Filter):
    """Drops log records that report a failure for want of space (Beam logs a worker's exception,
    traceback included, before the runner re-raises it): the one-line error says it instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += str(record.exc_info[1])
        return not any(known in text for known in _SPACE_TEXTS)


@contextlib.contextmanager
def quiet_space_error_logs() -> Iterator[None]:
    """While the block runs, the root logger's handlers drop records about running out of space."""
    handlers = list(logging.getLogger().handlers)
    drop = _DropSpaceErrorLogs()
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(drop)


class QuietSpaceErrorStream:
    """A text stream that passes every write to `stream` except one reporting a failure for want of
    space: a Beam worker prints its bundle's traceback to stderr itself (sdk_worker `_execute`)
    before the runner re-raises the error in the driver, where it becomes the one-line error."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if any(known in text for known in _SPACE_TEXTS):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
