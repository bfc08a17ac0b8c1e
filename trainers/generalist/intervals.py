"""Success rates with their uncertainty: Wilson 95% intervals and two-proportion comparisons.

Every rate the generalist evaluation and the demo show carries its number of episodes and a 95%
Wilson score interval (good at small n and at 0% or 100%, where the normal approximation gives
nonsense); every gap between two rates carries Newcombe's hybrid score interval for the
difference (built from the two Wilson intervals) and a two-sided two-proportion z-test.
Pure functions of counts: no numpy, no files.
"""

from __future__ import annotations

import math
from typing import Optional

from rldg_data.errors import ConfigError

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ConfigError(f"successes {successes} not in [0, {n}]")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def median_interval(values, confidence: float = 0.95) -> Optional[tuple[float, float]]:
    """Distribution-free interval of a median (cycle times are skewed: no normal approximation):
    the order statistics x(j) and x(n+1-j) of the sorted values, j the largest with
    P(Binomial(n, 1/2) <= j - 1) <= (1 - confidence) / 2, so coverage is at least `confidence`.
    None when there are too few values for any such j (fewer than 6 at 95%)."""
    xs = sorted(float(v) for v in values)
    n, tail = len(xs), (1.0 - confidence) / 2.0
    cdf, j = 0.0, 0
    for k in range(n):
        cdf += math.comb(n, k) / 2.0 ** n
        if cdf > tail:
            break
        j = k + 1
    return (xs[j - 1], xs[n - j]) if j else None


def rate(successes: int, n: int) -> dict:
    """{successes, episodes, success_rate, ci95: [lo, hi]} of one success count."""
    lo, hi = wilson(successes, n)
    return {"successes": int(successes), "episodes": int(n),
            "success_rate": successes / n if n else 0.0, "ci95": [round(lo, 4), round(hi, 4)]}


def difference(k1: int, n1: int, k2: int, n2: int) -> dict:
    """Rate 1 minus rate 2: the gap, Newcombe's 95% interval (method 10), a two-sided
    two-proportion z-test p-value, and whether the two Wilson intervals overlap."""
    p1, p2 = (k1 / n1 if n1 else 0.0), (k2 / n2 if n2 else 0.0)
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    gap = p1 - p2
    lo = gap - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = gap + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return {"gap": round(gap, 4), "ci95": [round(max(-1.0, lo), 4), round(min(1.0, hi), 4)],
            "p_value": two_proportion_p(k1, n1, k2, n2), "intervals_overlap": not (l1 > u2 or l2 > u1)}


def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> Optional[float]:
    """Two-sided p-value of the pooled two-proportion z-test (None when it is undefined)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (k1 / n1 - k2 / n2) / se
    return round(math.erfc(abs(z) / math.sqrt(2)), 6)


def fmt_rate(cell: Optional[dict]) -> str:
    """"47% [35-59%] (n=60)" for a `rate` dict; "-" for None."""
    if not cell:
        return "-"
    lo, hi = cell["ci95"]
    return f"{cell['success_rate']:.0%} [{lo:.0%}-{hi:.0%}] (n={cell['episodes']})"


def fmt_gap(diff: Optional[dict]) -> str:
    """"+37 points [+21, +51], p=0.0001" for a `difference` dict."""
    if not diff:
        return "n/a"
    lo, hi = diff["ci95"]
    p = diff["p_value"]
    return (f"{100 * diff['gap']:+.0f} points [{100 * lo:+.0f}, {100 * hi:+.0f}]"
            + (f", p={p:.2g}" if p is not None else ""))
