"""The statistics table of a report: action and state mean, std, min, max, q01, q99 per dimension.

The numbers are the toolkit's one statistics implementation (`rldg_data.stats`), accumulated in
the view's single pass over the split a trainer normalizes with (`train` if the dataset has one,
else every split): the same numbers `rldg stats` writes and a loader normalizes with. Actions are
counted at the steps whose `is_last` is False (RLDS), states at every step. When the dataset's own
`dataset_statistics.json` disagrees with them (written by an older version, or for other data) the
table says so instead of showing stale numbers.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np

from rldg_data.stats.accumulators import STATS_FILE
from rldg_data.stats.stale import file_differs, find_statistics_file
from viz.scan import DatasetView

log = logging.getLogger(__name__)

STAT_KEYS = ("mean", "std", "min", "max", "q01", "q99")
STATISTICS_FILE = STATS_FILE
_FIELDS = (("action", "action"), ("state", "proprio"))


@dataclasses.dataclass(frozen=True)
class StatisticsTable:
    """Rows of (field, dimension) -> one value per STAT_KEYS, and where the numbers came from."""

    origin: str  # what was counted (split, episodes), and whether a stale statistics file was found
    fields: dict[str, dict[str, np.ndarray]]  # "action" / "state" -> stat -> [dim]
    num_transitions: int  # actions counted (steps with is_last False)
    num_steps: int  # states counted (every step)
    statistics: dict  # the dataset_statistics.json dict these rows come from

    def rows(self) -> list[tuple[str, list[float]]]:
        out = []
        for field, stats in self.fields.items():
            dims = len(next(iter(stats.values()))) if stats else 0
            for d in range(dims):
                out.append((f"{field}[{d}]", [float(stats[k][d]) for k in STAT_KEYS]))
        return out


def statistics_table(view: DatasetView) -> StatisticsTable:
    """The table of `view.statistics` (see module docstring)."""
    stats = view.statistics
    fields = {}
    for name, key in _FIELDS:
        entry = stats.get(key) or {}
        fields[name] = {k: np.asarray(entry[k], np.float64).reshape(-1) for k in STAT_KEYS if k in entry}
        if len(fields[name]) != len(STAT_KEYS):
            fields[name] = {}
    split = f"split {view.statistics_split}" if view.statistics_split else "every split"
    origin = (f"computed over {split} ({stats.get('num_trajectories', 0)} episodes) by "
              f"rldg_data.stats, as `rldg stats` and the loaders do")
    found = find_statistics_file(view.path)
    if found is not None and file_differs(found, stats):
        origin += f"; {found} holds other numbers (stale: rerun `rldg stats`)"
    return StatisticsTable(origin, fields, int(stats.get("num_transitions", 0)),
                           int(stats.get("num_steps", 0)), stats)
