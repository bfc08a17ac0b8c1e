"""Reading contract shards and writing TFRecord parts with atomic renames, safe on any Beam runner.

No side inputs and no runner-provided sinks (TFDS's Beam writer and `WriteToText` do not finish on
the DaskRunner: its side inputs read empty, its temp files are never finalized): each build task (one source shard) writes its own part file per
split under a temporary name and renames it when the task finishes, beside a JSON sidecar listing
what it holds; the driver turns parts into TFDS shards after the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Iterator

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.io.atomic import write_bytes_atomic, write_json_atomic
from rldg_data.io.reader import iter_shard, iter_shard_examples
from rldg_data.io.records import RecordWriter
from rldg_data.transforms.segments import steps_per_source

PART_PREFIX = "part-"


def read_shard(path: str, count: int, data_spec: spec.DatasetSpec, decode_images: bool) -> Iterator[Episode]:
    """Episodes of one shard file, checked against the contract (first violation raises, naming
    the file): `reader.iter_shard`, the same reading every tool does."""
    return iter_shard(path, count, data_spec, decode_images=decode_images)


def read_shard_examples(path: str, count: int, data_spec: spec.DatasetSpec,
                        decode_images: bool) -> Iterator[tuple[Episode, object]]:
    """`read_shard`'s checked episodes, each with its parsed `tf.train.Example` (what `codec.restamp`
    re-serializes when the recipe leaves the episode as it is)."""
    return iter_shard_examples(path, count, data_spec, decode_images=decode_images)


class PartWriter:
    """Writes one build task's episodes into its own TFRecord part per split.

    Parts are named after the task (`<folder>/part-<split>-<task:05d>.tfrecord`), so a retried task
    rewrites the same files and the shard layout does not depend on the runner. Each part is written
    under a temporary name and renamed on `close()`, beside a `.json` sidecar with one row per
    episode (id, record sha256, steps, source, metadata summary).
    """

    def __init__(self, folder: str, task: int) -> None:
        self.folder, self.task = folder, task
        self._parts: dict[str, tuple] = {}

    def write(self, split: str, episode_id: str, record: bytes, summary: dict) -> None:
        if split not in self._parts:
            stem = f"{PART_PREFIX}{split}-{self.task:05d}"
            tmp = os.path.join(self.folder, f".{stem}.{uuid.uuid4().hex[:8]}.tfrecord")
            self._parts[split] = (stem, tmp, RecordWriter(tmp), [], [0])
        _, _, writer, rows, size = self._parts[split]
        writer.write(record)
        size[0] += len(record) + 16
        rows.append({"episode_id": episode_id, "sha256": hashlib.sha256(record).hexdigest(), **summary})

    def close(self) -> dict[str, int]:
        """Renames every finished part into place; returns episodes written per split."""
        written = {}
        for split, (stem, tmp, writer, rows, size) in self._parts.items():
            writer.close()
            os.replace(tmp, os.path.join(self.folder, f"{stem}.tfrecord"))
            write_json(self.folder, f"{stem}.json", {"split": split, "num_bytes": size[0], "episodes": rows})
            written[split] = len(rows)
        self._parts = {}
        return written


def write_bytes(folder: str, name: str, data: bytes) -> None:
    """Writes one small binary file atomically and durably (a task's packed statistics)."""
    write_bytes_atomic(os.path.join(folder, name), data)


def write_json(folder: str, name: str, data) -> None:
    """Writes one JSON file atomically and durably (the last step of small keyed results)."""
    write_json_atomic(os.path.join(folder, name), data)


def list_parts(folder: str | os.PathLike) -> list[dict]:
    """Every finished part in `folder`, sorted by split then part name: its sidecar's fields with
    `episodes` replaced by their number (`count`), `file` (the part) and `sidecar` (the rows' file).
    One sidecar's rows are in memory at a time (`episode_index` reads them again, one at a time)."""
    found = []
    for side in sorted(Path(folder).glob(f"{PART_PREFIX}*.json")):
        data = json.loads(side.read_text())
        data["count"] = len(data.pop("episodes"))
        data["file"] = str(side.with_suffix(".tfrecord"))
        data["sidecar"] = str(side)
        found.append(data)
    return sorted(found, key=lambda d: (d["split"], d["file"]))


def summary_of(episode: Episode, source: str, removed: dict[str, int] | None = None) -> dict:
    """What the card and the digest need of an episode, without its arrays: `steps_by_segment`
    (steps per step source) and `removed_by_segment` (steps the recipe's relabels removed from
    each segment, see `transforms.segments`)."""
    meta = episode.metadata
    kept = steps_per_source(episode)
    return {"source": source, "task": meta.task, "variant": meta.variant, "split_meta": meta.split,
            "success": bool(meta.success), "length": len(episode), "steps_by_segment": kept,
            "removed_by_segment": dict(removed) if removed else {k: 0 for k in kept}}
