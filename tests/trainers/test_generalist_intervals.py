"""Wilson intervals and two-proportion comparisons of success rates (trainers.generalist.intervals)."""

from __future__ import annotations

import math
import random

import pytest

from rldg_data.errors import ConfigError

from trainers.generalist.intervals import difference, fmt_gap, fmt_rate, rate, two_proportion_p, wilson


def test_wilson_matches_published_values_and_stays_inside_0_1():
    # Newcombe (1998), table I: 81/263 -> [0.2553, 0.3662]; 0/10 and 10/10 stay within [0, 1].
    lo, hi = wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert wilson(0, 10)[0] == 0.0 and 0.27 < wilson(0, 10)[1] < 0.28
    assert wilson(10, 10)[1] == pytest.approx(1.0) and 0.72 < wilson(10, 10)[0] < 0.73
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ConfigError):
        wilson(11, 10)


def test_rate_and_formatting_carry_n_and_the_interval():
    cell = rate(15, 30)
    assert cell == {"successes": 15, "episodes": 30, "success_rate": 0.5, "ci95": [0.3315, 0.6685]}
    assert fmt_rate(cell) == "50% [33%-67%] (n=30)"
    assert fmt_rate(None) == "-"


def test_difference_interval_p_value_and_overlap():
    d = difference(15, 30, 3, 30)  # the NOTES measurement: RL 15/30 vs human 3/30
    assert d["gap"] == 0.4 and d["ci95"][0] > 0 and d["p_value"] < 0.001 and not d["intervals_overlap"]
    same = difference(5, 20, 5, 20)
    assert same["gap"] == 0 and same["ci95"][0] < 0 < same["ci95"][1] and same["p_value"] == 1.0
    assert same["intervals_overlap"]
    assert two_proportion_p(0, 10, 0, 10) == 1.0 and two_proportion_p(1, 0, 1, 10) is None
    assert fmt_gap(d).startswith("+40 points [+")


def test_median_interval_is_the_order_statistic_interval_and_covers_95_percent():
    from trainers.generalist.intervals import median_interval

    assert median_interval([3, 1, 2, 5, 4]) is None  # 5 values: no interval reaches 95%
    assert median_interval(range(1, 41)) == (14.0, 27.0)  # the textbook ranks for n = 40
    rng = random.Random(0)
    covered = 0
    for _ in range(400):  # skewed data (cycle times are): the true median of Exp(1) is ln 2
        lo, hi = median_interval([rng.expovariate(1.0) for _ in range(30)])
        covered += lo <= math.log(2) <= hi
    assert covered / 400 >= 0.93
