"""DoFns that read contract shards and write TFRecord parts, safe on any Beam runner.

No side inputs and no runner-provided sinks (TFDS's Beam writer and `WriteToText` do not finish on
the DaskRunner, see NOTES.md): each bundle writes its own part file under a temporary name and
renames it when the bundle finishes, beside a JSON sidecar listing what it holds; the driver turns
parts into TFDS shards after the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Iterator

import apache_beam as beam

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError
from rldg_data.io.tfexample import decode_episode

PART_PREFIX = "part-"


def iter_records_batched(path: str, count: int, batch: int = 256) -> Iterator[bytes]:
    """Records of a TFRecord shard, read in batches (a tenth of the per-record cost of
    `reader.iter_records`); CRC errors and short shards raise ContractError naming the file."""
    import tensorflow as tf

    seen = 0
    try:
        for records in tf.data.TFRecordDataset(path).batch(batch).as_numpy_iterator():
            seen += len(records)
            yield from records
    except (tf.errors.DataLossError, tf.errors.OutOfRangeError, tf.errors.InvalidArgumentError,
            tf.errors.NotFoundError) as exc:
        raise ContractError(f"damaged or missing TFRecord near record {seen}: {exc.message.splitlines()[0]}",
                            file=path, hint="rebuild the source dataset") from exc
    if seen != count:
        raise ContractError(f"shard holds {seen} records, dataset_info.json says {count}", file=path,
                            hint="the shard is truncated; rebuild the source dataset")


def read_shard(path: str, count: int, data_spec: spec.DatasetSpec, decode_images: bool) -> Iterator[Episode]:
    """Episodes of one shard file, checked against the contract (first violation raises, naming the file)."""
    for record in iter_records_batched(path, count):
        episode = decode_episode(record, file=path, decode_image_fields=decode_images, expected=data_spec)
        found = episode.violations(data_spec if decode_images else None)
        if found:
            raise found[0].located(file=path)
        yield episode


class WriteParts(beam.DoFn):
    """Writes (split, episode_id, record, summary) elements into per-bundle TFRecord part files.

    Emits nothing: each finished part is `<folder>/part-<split>-<uuid>.tfrecord` plus a
    `.json` sidecar with one row per episode (id, record sha256, steps, source, metadata summary).
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def start_bundle(self) -> None:
        self._parts: dict[str, tuple] = {}

    def process(self, element) -> None:
        split, episode_id, record, summary = element
        if split not in self._parts:
            import tensorflow as tf

            stem = f"{PART_PREFIX}{split}-{uuid.uuid4().hex}"
            tmp = os.path.join(self.folder, f".{stem}.tfrecord")
            self._parts[split] = (stem, tmp, tf.io.TFRecordWriter(tmp), [], [0])
        _, _, writer, rows, size = self._parts[split]
        writer.write(record)
        size[0] += len(record) + 16
        rows.append({"episode_id": episode_id, "sha256": hashlib.sha256(record).hexdigest(), **summary})

    def finish_bundle(self) -> None:
        for split, (stem, tmp, writer, rows, size) in self._parts.items():
            writer.close()
            os.replace(tmp, os.path.join(self.folder, f"{stem}.tfrecord"))
            sidecar = {"split": split, "num_bytes": size[0], "episodes": rows}
            side_tmp = os.path.join(self.folder, f".{stem}.json")
            with open(side_tmp, "w") as f:
                json.dump(sidecar, f)
            os.replace(side_tmp, os.path.join(self.folder, f"{stem}.json"))
        self._parts = {}


def write_json(folder: str, name: str, data) -> None:
    """Writes one JSON file atomically (used as the last step of small keyed results)."""
    from rldg_data.stats.accumulators import write_json_atomic

    write_json_atomic(os.path.join(folder, name), data)


def list_parts(folder: str | os.PathLike) -> list[dict]:
    """Sidecars of every finished part in `folder`, sorted by split then part name."""
    found = []
    for side in sorted(Path(folder).glob(f"{PART_PREFIX}*.json")):
        data = json.loads(side.read_text())
        data["file"] = str(side.with_suffix(".tfrecord"))
        found.append(data)
    return sorted(found, key=lambda d: (d["split"], d["file"]))


def summary_of(episode: Episode, source: str) -> dict:
    """What the card and the digest need of an episode, without its arrays."""
    meta = episode.metadata
    return {"source": source, "task": meta.task, "variant": meta.variant, "split_meta": meta.split,
            "success": bool(meta.success), "length": len(episode)}
