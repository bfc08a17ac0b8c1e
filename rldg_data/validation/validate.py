"""`rldg validate`: a dataset's summary and every contract violation in it.

Unlike `reader.iter_episodes`, which stops at the first problem, `validate_dataset` reads on past
damaged shards and bad episodes so the user sees everything that is wrong in one pass.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from typing import Callable, Optional

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError, DatasetError
from rldg_data.io.codec import check_record
from rldg_data.io.reader import open_dataset
from rldg_data.io.records import iter_records
from rldg_data.stats.accumulators import statistics_arrays
from rldg_data.stats.stale import stale_statistics


@dataclasses.dataclass
class DatasetSummary:
    """Counts of a dataset: episodes, steps, transitions, and episodes per source, variant, split
    and task. `steps` counts every step (T per episode, the final observation included);
    `transitions` the steps with an action (is_last False: T - 1), what statistics count;
    `steps_by_source` counts steps by each step's own source label."""

    path: str = ""
    name: str = ""
    version: str = ""
    episodes: int = 0
    steps: int = 0
    transitions: int = 0
    successes: int = 0
    steps_by_source: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    episodes_by_variant: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    episodes_by_split: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    episodes_by_task: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    episodes_by_dataset_split: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def success_rate(self) -> float:
        return self.successes / self.episodes if self.episodes else 0.0

    def add(self, episode: Episode, dataset_split: str) -> None:
        meta = episode.metadata
        self.episodes += 1
        self.steps += len(episode)
        self.transitions += len(statistics_arrays(episode.steps)["action"])
        self.successes += int(bool(meta.success))
        if spec.SOURCE in episode.steps:
            self.steps_by_source.update(str(s) for s in episode.steps[spec.SOURCE])
        self.episodes_by_variant[f"{meta.task}/{meta.variant}"] += 1
        self.episodes_by_split[meta.split] += 1
        self.episodes_by_task[meta.task] += 1
        self.episodes_by_dataset_split[dataset_split] += 1

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["success_rate"] = self.success_rate
        return {k: dict(v) if isinstance(v, collections.Counter) else v for k, v in out.items()}


@dataclasses.dataclass
class ValidationReport:
    summary: DatasetSummary
    violations: list[ContractError]

    @property
    def ok(self) -> bool:
        return not self.violations


def validate_dataset(
    path: str | os.PathLike,
    progress: Optional[Callable[[int], None]] = None,
    max_violations: int = 1000,
) -> ValidationReport:
    """Reads every episode of the dataset at `path`, checking each against the contract.

    `progress(n)` is called after each episode (the CLI passes a progress bar's update).
    Raises DatasetError only when the folder is not a dataset at all.
    """
    files = open_dataset(path)
    summary = DatasetSummary(path=str(files.path), name=files.name, version=files.version)
    violations: list[ContractError] = []
    if files.spec_error:
        violations.append(ContractError(files.spec_error, file=str(files.path / "features.json")))
    seen_ids: dict[str, str] = {}
    for split, shard_list in files.shards.items():
        for shard, count in zip(shard_list, files.shard_lengths[split]):
            try:
                for index, record in iter_records(shard, count):
                    _check_record(record, shard, index, files.spec, split, seen_ids, summary, violations)
                    if progress:
                        progress(1)
            except ContractError as exc:
                violations.append(exc)
            if len(violations) >= max_violations:
                return ValidationReport(summary, violations)
    if not summary.episodes and not violations:
        violations.append(ContractError("dataset holds no episodes", file=str(files.path)))
    if not violations:  # statistics of a broken dataset mean nothing; the broken records come first
        stale = stale_statistics(files.path)
        if stale:
            violations.append(ContractError(stale))
    return ValidationReport(summary, violations)


def _check_record(record, shard, index, data_spec, split, seen_ids, summary, violations) -> None:
    episode, problems = check_record(record, file=str(shard), index=index, expected=data_spec)
    violations.extend(problems)
    if episode is None:
        return
    if episode.episode_id:
        if episode.episode_id in seen_ids:
            violations.append(ContractError(
                f"duplicate episode_id (also in {seen_ids[episode.episode_id]})", file=str(shard),
                episode_id=episode.episode_id, field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}"))
        seen_ids[episode.episode_id] = str(shard)
    summary.add(episode, split)
