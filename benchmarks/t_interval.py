"""Mean and 95% t-interval of repeated benchmark measurements: the one helper every benchmark uses.

Imported by the benchmark scripts as a sibling module (`from t_interval import mean_ci`), like
`peak_rss`; standard library only, so it also runs in the interop side environment.
"""

from __future__ import annotations

import math
import statistics
from typing import Sequence

# Two-sided 95% Student t quantiles by degrees of freedom (scipy.stats.t.ppf(0.975, df), to 4
# places); the normal 1.96 beyond 30.
T95 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646, 8: 2.306,
       9: 2.2622, 10: 2.2281, 11: 2.201, 12: 2.1788, 13: 2.1604, 14: 2.1448, 15: 2.1314,
       16: 2.1199, 17: 2.1098, 18: 2.1009, 19: 2.093, 20: 2.086, 21: 2.0796, 22: 2.0739,
       23: 2.0687, 24: 2.0639, 25: 2.0595, 26: 2.0555, 27: 2.0518, 28: 2.0484, 29: 2.0452,
       30: 2.0423}


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of its 95% t-interval); the half-width is nan for a single value."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return mean, float("nan")
    return mean, T95.get(n - 1, 1.96) * statistics.stdev(values) / math.sqrt(n)
