"""`undo_fixed_malloc_thresholds`: give a Dask worker glibc's default allocation behaviour back.

dask.distributed's nanny starts every worker with `MALLOC_TRIM_THRESHOLD_=65536` (its config key
`distributed.nanny.pre-spawn-environ`) so that workers hand freed memory back to the kernel. Setting
any such variable also turns off glibc's dynamic mmap threshold, so every buffer over 128 KiB that
the build allocates (a record of a shard, an episode's encoded bytes) is mmap'd, faulted in zeroed
page by page, and unmapped again on free. Measured on the 400k-step benchmark source, the same build
loop in one process: 4.6 CPU-s and 64,421 page faults without the variable, 7.2 CPU-s and 974,576
with it (BENCHMARKS.md, "mix scaling"): most of what made one Dask worker slower than the
in-process runner.

The fix sets the two thresholds to where glibc's dynamic threshold ends up on its own (mmap above
32 MiB, its ceiling on 64-bit; trim when 64 MiB are free at the heap's top), only in a process
started with one of the variables, and only on glibc. It changes no result, only page faults; a
worker's resident memory may keep up to 64 MiB of freed heap.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD = 32 * 2**20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what glibc sets beside a raised dynamic mmap threshold
_FIXING_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_done = False


def fixed_thresholds_set(environ=os.environ) -> list[str]:
    """The glibc variables in `environ` that turn the dynamic mmap threshold off."""
    return [name for name in _FIXING_VARIABLES if name in environ]


def undo_fixed_malloc_thresholds() -> bool:
    """Raises the mmap and trim thresholds (once per process) if the process was started with a
    fixed threshold; returns whether it changed them."""
    global _done
    if _done or not fixed_thresholds_set():
        return False
    _done = True
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: libc's, no ldconfig lookup
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS): nothing to undo
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    log.debug("malloc thresholds %s (started with %s)", "raised" if ok else "left", fixed_thresholds_set())
    return ok
