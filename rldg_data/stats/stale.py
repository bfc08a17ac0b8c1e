"""Is a dataset's `dataset_statistics.json` the statistics of its data? (`rldg show`, `validate`, `pack`)

Loaders and exports normalize with that file, so a file written for another split, by an older
version, or before the data changed silently skews every model trained on the dataset. One check,
used by every command that looks at it: the file must hold the counts and the mean, std, min, max,
q01 and q99 of action and proprio that `rldg stats` computes now for the default split.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import numpy as np

from rldg_data.io.reader import open_dataset
from rldg_data.stats.accumulators import STATS_FILE
from rldg_data.stats.dataset import dataset_statistics, default_split

STAT_KEYS = ("mean", "std", "min", "max", "q01", "q99")
FIELDS = ("action", "proprio")


def find_statistics_file(dataset_path: str | os.PathLike) -> Optional[Path]:
    """The dataset_statistics.json of a dataset: in its version folder or the folder above."""
    folder = Path(dataset_path)
    for candidate in (folder / STATS_FILE, folder.parent / STATS_FILE):
        if candidate.is_file():
            return candidate
    return None


def file_differs(path: str | os.PathLike, stats: dict) -> bool:
    """True when a statistics file does not hold `stats` (counts or any of the numbers)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return True
    if not isinstance(data, dict):
        return True
    for key in ("num_transitions", "num_trajectories"):
        if data.get(key) != stats.get(key):
            return True
    for key in FIELDS:
        mine, theirs = stats.get(key) or {}, data.get(key)
        if not isinstance(theirs, dict):
            return True
        for name in STAT_KEYS:
            if name in mine and not np.allclose(np.asarray(theirs.get(name, np.nan), np.float64),
                                                mine[name], rtol=1e-6, atol=1e-9):
                return True
    return False


def stale_statistics(dataset_path: str | os.PathLike) -> Optional[str]:
    """A one-line problem when the dataset's statistics file holds other numbers than its default
    split's statistics (None when it matches, or when there is no file: nothing to mislead)."""
    found = find_statistics_file(dataset_path)
    if found is None:
        return None
    files = open_dataset(dataset_path)
    split = default_split(list(files.shards))
    if not file_differs(found, dataset_statistics(files.path, split)):
        return None
    return (f"{found} holds other numbers than the {split or 'whole'} split's statistics (stale, or "
            f"written for another split): loaders normalize with it; rerun `rldg stats {files.path}`")
