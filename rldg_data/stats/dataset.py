"""The statistics of datasets on disk: one dataset or several (merged), split-aware, read-only.

`dataset_statistics(paths, split)` is what the training loaders normalize with and what `rldg
stats` prints; `compute_dataset_statistics(path, write=True)` is `rldg stats` on one dataset,
which writes `dataset_statistics.json` beside the data (nothing else writes into a dataset it
reads). Both stream records without decoding images into `accumulators.StatsAccumulator`s, the
same accumulators the mix pipeline combines, so every tool shows the same numbers.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

from rldg_data.errors import DatasetError
from rldg_data.io.atomic import write_json_atomic
from rldg_data.stats.accumulators import STATS_FILE, StatsAccumulator


def default_split(splits: Sequence[str]) -> Optional[str]:
    """The split statistics describe when none is asked for: `train` if the dataset has one (what
    a trainer normalizes with), else None (every split)."""
    return "train" if "train" in splits else None


def accumulate(paths: str | os.PathLike | Sequence[str | os.PathLike],
               split: Optional[str] = None) -> StatsAccumulator:
    """One accumulator over `split` of every dataset in `paths` (None: each dataset's
    `default_split`), merged. Streams records without decoding images; reads only."""
    from rldg_data.io.reader import iter_episodes, open_dataset

    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    total = StatsAccumulator()
    for path in paths:
        files = open_dataset(path)
        chosen = split if split is not None else default_split(list(files.shards))
        acc = StatsAccumulator()
        for episode in iter_episodes(files.path, chosen, decode_images=False):
            acc.add_episode(episode)
        total.merge(acc)
    return total


def dataset_statistics(paths: str | os.PathLike | Sequence[str | os.PathLike],
                       split: Optional[str] = None) -> dict:
    """Statistics of one dataset or several (merged), as the `dataset_statistics.json` dict.

    What training loaders normalize with; never writes anything. DatasetError when the datasets
    hold no episode in `split`.
    """
    acc = accumulate(paths, split)
    if not acc.num_trajectories:
        names = ", ".join(map(str, [paths] if isinstance(paths, (str, os.PathLike)) else paths))
        where = f"split {split!r} of {names}" if split else names
        raise DatasetError(f"no episodes in {where}: cannot compute statistics")
    return acc.to_dict()


def compute_dataset_statistics(path: str | os.PathLike, split: Optional[str] = None,
                               write: bool = True) -> dict:
    """Statistics of a contract dataset (`split`, else `default_split`), as `rldg stats` gives
    them; with `write`, saved beside the data (atomically) as `statistics_file_name(split)`: the
    default split's in `dataset_statistics.json` (what loaders and exports normalize with), any
    other split's in `dataset_statistics_<split>.json`, never over the former."""
    from rldg_data.io.reader import open_dataset

    stats = dataset_statistics(path, split)
    if write:
        files = open_dataset(path)
        write_json_atomic(files.path / statistics_file_name(split, list(files.shards)), stats)
    return stats


def statistics_file_name(split: Optional[str], splits: Sequence[str]) -> str:
    """`dataset_statistics.json` for the default split (or none asked), else
    `dataset_statistics_<split>.json`: statistics of another split never replace the ones loaders use."""
    if split is None or split == default_split(splits):
        return STATS_FILE
    return f"{STATS_FILE[:-len('.json')]}_{split}.json"
