"""The mix's per-episode rows, streamed through disk: counts, digest and duplicate check in flat memory.

Each build task leaves a part with a JSON sidecar of one row per episode (`shard_io.PartWriter`).
The driver used to gather every row of every part in one list to count, digest and list the
episodes: about 300 bytes an episode, ~3 GB at 10M episodes (docs/SCALING.md). Here the sidecars
are read one at a time: counts go into per-source tallies (their size is the number of sources,
variants and splits, not of episodes), and each part's (episode_id, sha256, split, source) lines
are sorted into a run file; the runs are then merged (`heapq.merge`, one line per run in memory)
into the dataset's digest, the check that no episode_id repeats, and `rldg_episodes.tsv`, the
sorted episode index published beside rldg_info.json.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import heapq
import json
import os
import shutil
from pathlib import Path
from typing import Iterable, Iterator, Optional

from rldg_data.errors import DatasetError

INDEX_FILE = "rldg_episodes.tsv"
INDEX_HEADER = "episode_id\tsha256\tsplit\tsource\n"


@dataclasses.dataclass
class SourceTally:
    """What the card and rldg_info.json say of one source's selected episodes."""

    selected: int = 0
    steps: int = 0
    steps_removed: int = 0  # by the relabels (trim_pauses): the sum of removed_by_segment
    successes: int = 0
    by_variant: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    by_split: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    # steps kept / removed by the recipe's relabels, per segment (step source: human, rl, ...)
    steps_by_segment: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    removed_by_segment: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def add(self, row: dict, split: str) -> None:
        self.selected += 1
        self.steps_by_segment.update(row.get("steps_by_segment") or {})
        self.removed_by_segment.update(row.get("removed_by_segment") or {})
        self.steps += int(row["length"])
        self.steps_removed += sum((row.get("removed_by_segment") or {}).values())
        self.successes += bool(row["success"])
        self.by_variant[f"{row['task']}/{row['variant']}"] += 1
        self.by_split[split] += 1


@dataclasses.dataclass
class EpisodeIndex:
    """The result of indexing a mix's parts."""

    tallies: dict[str, SourceTally]
    num_episodes: int
    digest: str
    first_duplicate: Optional[str]  # an episode_id seen twice, or None

    @property
    def num_steps(self) -> int:
        return sum(t.steps for t in self.tallies.values())

    @property
    def success_rate(self) -> float:
        wins = sum(t.successes for t in self.tallies.values())
        return wins / self.num_episodes if self.num_episodes else 0.0


def _clean(value: str, what: str) -> str:
    if "\t" in value or "\n" in value:
        raise DatasetError(f"an episode {what} holds a tab or newline: {value!r}")
    return value


def index_parts(sidecars: Iterable[tuple[str, Path]], out_dir: Path) -> EpisodeIndex:
    """Indexes `(split, sidecar path)` parts; writes `out_dir/rldg_episodes.tsv`; returns the index.

    Memory holds one part's rows at a time, then one line per part while merging.
    """
    runs = out_dir / ".episode-runs"
    runs.mkdir(exist_ok=True)
    tallies: dict[str, SourceTally] = collections.defaultdict(SourceTally)
    paths = []
    try:
        for i, (split, sidecar) in enumerate(sidecars):
            rows = json.loads(Path(sidecar).read_text())["episodes"]
            lines = []
            for row in rows:
                tallies[row["source"]].add(row, split)
                lines.append(f"{_clean(row['episode_id'], 'id')}\t{row['sha256']}\t{split}\t"
                             f"{_clean(row['source'], 'source')}\n")
            lines.sort()
            path = runs / f"{i:08d}.tsv"
            path.write_text("".join(lines))
            paths.append(path)
            del rows, lines
        digest, count, duplicate = _merge(paths, out_dir / INDEX_FILE)
    finally:
        shutil.rmtree(runs, ignore_errors=True)
    return EpisodeIndex(dict(tallies), count, digest, duplicate)


def _merge(paths: list[Path], index_path: Path) -> tuple[str, int, Optional[str]]:
    """Merges sorted run files into the index; (digest as `writer.dataset_digest`, count, duplicate)."""
    h = hashlib.sha256()
    count, previous, duplicate = 0, None, None
    with contextlib.ExitStack() as stack, open(index_path, "w", encoding="utf-8") as out:
        files = [stack.enter_context(open(p, encoding="utf-8")) for p in paths]
        out.write(INDEX_HEADER)
        for line in heapq.merge(*files):
            episode_id, sha, _ = line.split("\t", 2)
            if episode_id == previous and duplicate is None:
                duplicate = episode_id
            previous = episode_id
            h.update(episode_id.encode("utf-8") + b"\0" + sha.encode("ascii") + b"\n")
            out.write(line)
            count += 1
    return h.hexdigest(), count, duplicate


def read_index(folder: str | os.PathLike) -> Iterator[dict]:
    """Rows ({episode_id, sha256, split, source}) of a mix's `rldg_episodes.tsv`, in id order."""
    path = Path(folder) / INDEX_FILE
    with open(path, encoding="utf-8") as f:
        keys = f.readline().rstrip("\n").split("\t")
        for line in f:
            yield dict(zip(keys, line.rstrip("\n").split("\t")))
