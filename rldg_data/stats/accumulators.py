"""Dataset statistics (action and proprio): the toolkit's one statistics implementation.

Every tool that reports or uses statistics goes through these accumulators: the mix pipeline (a
Beam CombineFn, `stats.beam`), `rldg stats` and the training loaders (`stats.dataset`: several
datasets are merged accumulators) and the report's table (viz). Reading never writes into a
dataset; only `rldg stats` and the mix write `dataset_statistics.json`.

What is counted follows RLDS (`rlds.transformations.sar_fields_mask`): in SAR alignment the action
(and reward) of a step with `is_last` set is not data (the last step holds the final observation
and a placeholder action), so actions are taken at the steps with `is_last` False and states at
every step. `num_transitions` counts those actions (T - 1 per episode of T steps), `num_steps`
counts steps (T per episode), `num_trajectories` episodes.

`StatsAccumulator` holds, per key (`action`, `proprio` = `observation/state`): the number of
transitions, exact sums and sums of squares (per-episode float64 sums kept as integers in units
of 2**-60, so adding them in any order gives the same bits), min, max, and a quantile sketch: a
fixed-layout log-bucket histogram (DDSketch-style, relative accuracy `RELATIVE_ACCURACY` = 0.2%
for |x| in [1e-6, 1e6]; |x| < 1e-6 counts as 0). Merging adds integer arrays, so any runner, any
number of workers and any merge order give identical statistics. q01/q99 are within 0.2% (relative)
of numpy's linear-interpolated quantiles.

The JSON layout serves both loaders: Octo reads mean/std/min/max/p01/p99 and OpenVLA reads
q01/q99 plus `mask` (False for the absolute gripper dimension, the last action dimension), and
both read `num_transitions` and `num_trajectories` at the top level (`num_steps` is ours).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from rldg_data.errors import ContractError
from rldg_data.contract import spec
from rldg_data.contract.episode import Episode

STATS_FILE = "dataset_statistics.json"
RELATIVE_ACCURACY = 0.002
MIN_ABS, MAX_ABS = 1e-6, 1e6
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_NB = int(math.ceil(math.log(MAX_ABS / MIN_ABS) / _LOG_GAMMA)) + 1  # buckets per sign
_NBUCKETS = 2 * _NB + 1  # negative (mirrored) | zero | positive
_SCALE = 2.0 ** 60
FIELDS = {"action": spec.ACTION, "proprio": spec.STATE}


def per_source_stats_file(source: str) -> str:
    """File name of one source's statistics, beside `dataset_statistics.json` (same layout)."""
    return f"dataset_statistics_{source}.json"


def _bucket_index(values: np.ndarray) -> np.ndarray:
    mag = np.abs(values.astype(np.float64))
    with np.errstate(divide="ignore"):
        i = np.ceil(np.log(np.maximum(mag, MIN_ABS) / MIN_ABS) / _LOG_GAMMA).astype(np.int64)
    i = np.clip(i, 0, _NB - 1)
    index = np.where(values > 0, _NB + 1 + i, _NB - 1 - i)
    return np.where(mag < MIN_ABS, _NB, index)


def _bucket_values() -> np.ndarray:
    i = np.arange(_NB, dtype=np.float64)
    rep = MIN_ABS * 2 * _GAMMA ** i / (_GAMMA + 1)
    rep[0] = MIN_ABS
    return np.concatenate([-rep[::-1], [0.0], rep])


_BUCKET_VALUES = _bucket_values()


class FieldStats:
    """Mergeable statistics of one vector field over many transitions (dims fixed by the first add)."""

    def __init__(self) -> None:
        self.count = 0
        self.dims: Optional[int] = None
        self.sums: list[int] = []
        self.sumsqs: list[int] = []
        self.min: Optional[np.ndarray] = None
        self.max: Optional[np.ndarray] = None
        self.hist: Optional[np.ndarray] = None

    def add(self, values: np.ndarray) -> None:
        """Adds the rows of a [T, D] array (one episode's field)."""
        values = np.asarray(values, np.float32).reshape(len(values), -1)
        if not len(values):
            return
        if self.dims is None:
            self._init(values.shape[1])
        elif values.shape[1] != self.dims:
            raise ContractError(f"{values.shape[1]} dims, earlier episodes had {self.dims}")
        v64 = values.astype(np.float64)
        self.count += len(values)
        self.sums = [a + int(b) for a, b in zip(self.sums, np.rint(v64.sum(0) * _SCALE))]
        self.sumsqs = [a + int(b) for a, b in zip(self.sumsqs, np.rint((v64 * v64).sum(0) * _SCALE))]
        self.min = np.minimum(self.min, values.min(0))
        self.max = np.maximum(self.max, values.max(0))
        dim_index = np.broadcast_to(np.arange(self.dims), values.shape)
        np.add.at(self.hist, (dim_index.ravel(), _bucket_index(values).ravel()), 1)

    def _init(self, dims: int) -> None:
        self.dims = dims
        self.sums, self.sumsqs = [0] * dims, [0] * dims
        self.min = np.full(dims, np.inf, np.float32)
        self.max = np.full(dims, -np.inf, np.float32)
        self.hist = np.zeros((dims, _NBUCKETS), np.int64)

    def merge(self, other: "FieldStats") -> "FieldStats":
        """Adds `other` into self (exact: integer sums and counts, elementwise min/max)."""
        if other.dims is None:
            return self
        if self.dims is None:
            self._init(other.dims)
        if other.dims != self.dims:
            raise ContractError(f"cannot merge statistics of {other.dims} and {self.dims} dims")
        self.count += other.count
        self.sums = [a + b for a, b in zip(self.sums, other.sums)]
        self.sumsqs = [a + b for a, b in zip(self.sumsqs, other.sumsqs)]
        self.min = np.minimum(self.min, other.min)
        self.max = np.maximum(self.max, other.max)
        self.hist += other.hist
        return self

    def quantile(self, q: float) -> np.ndarray:
        """Sketch estimate of numpy's linear quantile q per dim (within RELATIVE_ACCURACY)."""
        out = np.empty(self.dims, np.float64)
        rank = q * (self.count - 1)
        lo, frac = int(math.floor(rank)), rank - math.floor(rank)
        for d in range(self.dims):
            cum = np.cumsum(self.hist[d])
            a, b = np.searchsorted(cum, [lo + 1, min(lo + 2, self.count)])
            va, vb = _BUCKET_VALUES[a], _BUCKET_VALUES[b]
            out[d] = va + frac * (vb - va)
        return np.clip(out, self.min, self.max)

    def to_dict(self, mask: Optional[list[bool]] = None) -> dict:
        """The Octo/OpenVLA statistics of this field (lists of floats, one per dim)."""
        if not self.count:
            return {}
        n = self.count
        mean = [s / _SCALE / n for s in self.sums]
        var = [max((n * ss * 2 ** 60 - s * s), 0) / (n * n * 2 ** 120) for s, ss in zip(self.sums, self.sumsqs)]
        q01, q99 = self.quantile(0.01).tolist(), self.quantile(0.99).tolist()
        return {
            "mean": mean, "std": [math.sqrt(v) for v in var],
            "min": self.min.astype(float).tolist(), "max": self.max.astype(float).tolist(),
            "p01": q01, "p99": q99, "q01": q01, "q99": q99,
            "mask": mask if mask is not None else [True] * self.dims,
        }


def statistics_arrays(steps: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What statistics count of one episode's step arrays: {"action": the actions of the steps
    whose `is_last` is False [T-1, A], "proprio": the states of every step [T, S]} (RLDS's
    `sar_fields_mask`: the last step's action is a placeholder, its observation is data)."""
    action = np.asarray(steps[spec.ACTION])
    is_last = np.asarray(steps[spec.IS_LAST], bool).reshape(-1) if spec.IS_LAST in steps else None
    if is_last is None or len(is_last) != len(action):  # no flags: the last step is the last row
        is_last = np.arange(len(action)) == len(action) - 1
    return {"action": action[~is_last], "proprio": np.asarray(steps[spec.STATE])}


class StatsAccumulator:
    """Statistics of action and proprio over episodes; `merge` is exact and order-independent."""

    def __init__(self) -> None:
        self.fields = {key: FieldStats() for key in FIELDS}
        self.num_trajectories = 0

    def add_episode(self, episode: Episode) -> "StatsAccumulator":
        return self.add_arrays(statistics_arrays(episode.steps))

    def add_arrays(self, arrays: Mapping[str, np.ndarray]) -> "StatsAccumulator":
        """Adds one episode given as `statistics_arrays` gives it: {"action": [T-1, A],
        "proprio": [T, S]} (the arrays are counted as they are)."""
        for key, values in arrays.items():
            self.fields[key].add(values)
        self.num_trajectories += 1
        return self

    def merge(self, other: "StatsAccumulator") -> "StatsAccumulator":
        for key, field in other.fields.items():
            self.fields[key].merge(field)
        self.num_trajectories += other.num_trajectories
        return self

    def to_dict(self) -> dict:
        """The `dataset_statistics.json` layout (see module docstring)."""
        action = self.fields["action"]
        action_mask = [True] * (action.dims or 0)
        if action_mask:
            action_mask[-1] = False  # the absolute gripper command is not normalized
        return {
            "action": action.to_dict(action_mask),
            "proprio": self.fields["proprio"].to_dict(),
            "num_transitions": int(action.count),
            "num_steps": int(self.fields["proprio"].count),
            "num_trajectories": int(self.num_trajectories),
            "sketch": {"kind": "log-bucket histogram", "relative_accuracy": RELATIVE_ACCURACY,
                       "zero_below": MIN_ABS},
        }
