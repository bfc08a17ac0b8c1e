"""Peak resident memory of this process over a block, sampled by a thread.

`resource.getrusage(...).ru_maxrss` survives execve on Linux, so a child started by a big parent
reports the parent's peak: the benchmarks that measure a fresh process sample RSS instead.
"""

from __future__ import annotations

import threading


class PeakRSS:
    """`with PeakRSS() as rss: work()` then `rss.before_mib`, `rss.peak_mib` (sampled every 20 ms)."""

    def __init__(self, period_s: float = 0.02):
        import psutil

        self._proc, self._period = psutil.Process(), period_s
        self._done, self._peak, self.before = threading.Event(), 0, 0

    def _sample(self) -> None:
        while not self._done.is_set():
            self._peak = max(self._peak, self._proc.memory_info().rss)
            self._done.wait(self._period)

    def __enter__(self) -> "PeakRSS":
        self.before = self._peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self._peak = max(self._peak, self._proc.memory_info().rss)

    @property
    def before_mib(self) -> float:
        return self.before / 2**20

    @property
    def peak_mib(self) -> float:
        return self._peak / 2**20
