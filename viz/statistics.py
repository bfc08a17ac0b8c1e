"""The statistics table of a report: action and state mean, std, min, max, q01, q99 per dimension.

The dataset's own `dataset_statistics.json` (written by `rldg stats` in Octo's layout: `action`
and `proprio` entries) is shown when it is there, so the table is what a trainer will normalise
with; otherwise the same numbers are computed here from the view's arrays.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np

from viz.collect import DatasetView

log = logging.getLogger(__name__)

STAT_KEYS = ("mean", "std", "min", "max", "q01", "q99")
STATISTICS_FILE = "dataset_statistics.json"
_ALIASES = {"q01": ("q01", "p01"), "q99": ("q99", "p99")}


@dataclasses.dataclass(frozen=True)
class StatisticsTable:
    """Rows of (field, dimension) -> one value per STAT_KEYS, and where the numbers came from."""

    origin: str  # the dataset_statistics.json path, or "computed from the dataset"
    fields: dict[str, dict[str, np.ndarray]]  # "action" / "state" -> stat -> [dim]
    num_transitions: int

    def rows(self) -> list[tuple[str, list[float]]]:
        out = []
        for field, stats in self.fields.items():
            dims = len(next(iter(stats.values()))) if stats else 0
            for d in range(dims):
                out.append((f"{field}[{d}]", [float(stats[k][d]) for k in STAT_KEYS]))
        return out


def compute_statistics(values: np.ndarray) -> dict[str, np.ndarray]:
    """mean, std, min, max, q01, q99 per column of a [N, D] array (zeros when N is 0)."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or len(values) == 0:
        dim = values.shape[1] if values.ndim == 2 else 0
        return {k: np.zeros(dim) for k in STAT_KEYS}
    q01, q99 = np.quantile(values, [0.01, 0.99], axis=0)
    return {"mean": values.mean(0), "std": values.std(0), "min": values.min(0),
            "max": values.max(0), "q01": q01, "q99": q99}


def find_statistics_file(dataset_path: str | Path) -> Optional[Path]:
    """The dataset_statistics.json of a dataset: in its version folder or the folder above."""
    folder = Path(dataset_path)
    for candidate in (folder / STATISTICS_FILE, folder.parent / STATISTICS_FILE):
        if candidate.is_file():
            return candidate
    return None


def load_statistics_file(path: Path) -> Optional[StatisticsTable]:
    """Reads Octo-layout statistics; None (logged) when the file has no usable action entry."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("%s unreadable (%s): computing statistics instead", path, exc)
        return None
    fields = {}
    for field, keys in (("action", ("action",)), ("state", ("proprio", "state"))):
        entry = next((data[k] for k in keys if isinstance(data.get(k), dict)), None)
        if entry is None:
            continue
        try:
            fields[field] = {k: np.asarray(_pick(entry, k), np.float64).reshape(-1) for k in STAT_KEYS}
        except KeyError as exc:
            log.warning("%s: %s has no %s: computing statistics instead", path, field, exc)
            return None
    if "action" not in fields:
        log.warning("%s has no 'action' statistics: computing them instead", path)
        return None
    transitions = data.get("num_transitions", data.get("action", {}).get("num_transitions", 0))
    return StatisticsTable(str(path), fields, int(np.asarray(transitions).reshape(-1)[0]))


def _pick(entry: dict, key: str):
    for alias in _ALIASES.get(key, (key,)):
        if alias in entry:
            return entry[alias]
    raise KeyError(key)


def statistics_table(view: DatasetView) -> StatisticsTable:
    """The dataset's own statistics file when usable, else statistics computed from `view`."""
    found = find_statistics_file(view.path)
    if found is not None:
        table = load_statistics_file(found)
        if table is not None:
            return table
    actions = view.all_actions()
    return StatisticsTable("computed from the dataset",
                           {"action": compute_statistics(actions), "state": compute_statistics(view.all_states())},
                           len(actions))
