"""Writing contract episodes to a TFDS dataset folder, atomically.

`DatasetWriter` serializes each `Episode` (after `validate()`) into TFRecord shards inside a hidden
temporary folder next to the target, then writes TFDS's own metadata (`dataset_info.json`,
`features.json`, in TFDS's layout: `contract.tfds_json`) and renames the folder into place. The
result is `<data_dir>/<name>/<version>/`, loadable by `tfds.builder_from_directory` without this
package; an interrupted or failed write leaves no dataset (and any old one intact).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from rldg_data.contract.check import validate_episode
from rldg_data.contract import spec
from rldg_data.contract.tfds_json import write_metadata
from rldg_data.io.outputs import check_output, publish_output
from rldg_data.io.space import space_errors
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError, DatasetError
from rldg_data.io.codec import encode_episode
from rldg_data.io.records import RecordWriter

log = logging.getLogger(__name__)

DEFAULT_VERSION = "1.0.0"
DEFAULT_MAX_SHARD_BYTES = 256 << 20
FILE_FORMAT = "tfrecord"
RLDG_INFO_FILE = "rldg_info.json"


DATASET_COMMAND = "rldg_data.write_dataset"  # the mark of a dataset written from Python


def shard_name(name: str, split: str, index: int, count: int) -> str:
    """TFDS's default shard file name: `<name>-<split>.tfrecord-00000-of-00004`."""
    return f"{name}-{split}.{FILE_FORMAT}-{index:05d}-of-{count:05d}"


class _SplitShards:
    """Shards of one split being written: rolls to a new file past `max_bytes`."""

    def __init__(self, folder: Path, name: str, split: str, max_bytes: int) -> None:
        self.folder, self.name, self.split, self.max_bytes = folder, name, split, max_bytes
        self.lengths: list[int] = []
        self.sizes: list[int] = []
        self._writer = None

    def write(self, record: bytes) -> None:
        if self._writer is None or self.sizes[-1] >= self.max_bytes:
            self._roll()
        self._writer.write(record)
        self.lengths[-1] += 1
        self.sizes[-1] += len(record) + 16  # TFRecord framing: length, 2 CRCs

    def _roll(self) -> None:
        if self._writer is not None:
            self._writer.close()
        path = self.folder / f".part-{self.split}-{len(self.lengths):05d}"
        self._writer = RecordWriter(path)
        self.lengths.append(0)
        self.sizes.append(0)

    def finish(self) -> list[str]:
        """Closes the last shard and gives every shard its final TFDS name."""
        if self._writer is not None:
            self._writer.close()
        names = []
        for i in range(len(self.lengths)):
            final = shard_name(self.name, self.split, i, len(self.lengths))
            os.replace(self.folder / f".part-{self.split}-{i:05d}", self.folder / final)
            names.append(final)
        return names


class DatasetWriter:
    """Writes episodes into a new TFDS dataset `<data_dir>/<name>/<version>`, atomically.

    Use as a context manager; `add()` validates and writes one episode, leaving the context
    without an exception commits the dataset, an exception discards it.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        name: str,
        dataset_spec: spec.DatasetSpec,
        *,
        version: str = DEFAULT_VERSION,
        description: str = "RLDS dataset written by rldg-data.",
        overwrite: bool = False,
        max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
        extra_info: Optional[Mapping] = None,
        command: str = DATASET_COMMAND,
        inputs: Sequence[str | os.PathLike] = (),
    ) -> None:
        self.spec = dataset_spec
        self.name = name
        self.version = version
        self.description = description
        self.overwrite = overwrite
        self.max_shard_bytes = max_shard_bytes
        self.extra_info = dict(extra_info or {})
        self.final_dir = Path(data_dir) / name / version
        self.command, self.inputs = command, tuple(inputs)
        check_output(self.final_dir, command, force=overwrite, inputs=self.inputs)
        self.tmp_dir = Path(data_dir) / name / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
        self.tmp_dir.mkdir(parents=True)
        self._splits: dict[str, _SplitShards] = {}
        self._ids: set[str] = set()
        self._digests: list[tuple[str, str]] = []
        self._steps = 0

    def add(self, episode: Episode, split: str = "train") -> None:
        """Validates `episode` against the contract and this dataset's spec, then writes it."""
        validate_episode(episode, self.spec)
        if episode.episode_id in self._ids:
            raise ContractError("duplicate episode_id in one dataset", episode_id=episode.episode_id,
                                field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}")
        self._ids.add(episode.episode_id)
        record = encode_episode(episode, self.spec.image_encoding)
        with space_errors(self.final_dir, f"dataset {self.name!r}"):
            self.add_serialized(episode.episode_id, record, len(episode), split)

    def add_serialized(self, episode_id: str, record: bytes, num_steps: int, split: str = "train") -> None:
        """Writes an already validated and serialized episode (used by parallel encoders)."""
        if split not in self._splits:
            self._splits[split] = _SplitShards(self.tmp_dir, self.name, split, self.max_shard_bytes)
        self._splits[split].write(record)
        self._digests.append((episode_id, hashlib.sha256(record).hexdigest()))
        self._steps += num_steps

    def commit(self) -> Path:
        """Finishes the shards, writes TFDS metadata, and renames the dataset into place."""
        if not self._splits:
            raise DatasetError(f"no episodes were written to {self.final_dir}: refusing an empty dataset")
        with space_errors(self.final_dir, f"dataset {self.name!r}"):
            return self._commit()

    def _commit(self) -> Path:
        splits = []
        for split, shards in self._splits.items():
            shards.finish()
            splits.append((split, list(shards.lengths), int(sum(shards.sizes))))
        write_metadata(self.tmp_dir, self.spec, self.name, self.version, self.description, splits)
        info = {"name": self.name, "version": self.version, "num_episodes": len(self._digests),
                "num_steps": self._steps, "digest": dataset_digest(self._digests), **self.extra_info}
        (self.tmp_dir / RLDG_INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True))
        return publish(self.tmp_dir, self.final_dir, self.overwrite, self.command, self.inputs)

    def abort(self) -> None:
        """Discards everything written so far."""
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def __enter__(self) -> "DatasetWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


def dataset_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over (episode_id, record hash) pairs sorted by episode id: same data, same digest."""
    h = hashlib.sha256()
    for episode_id, record_hash in sorted(pairs):
        h.update(episode_id.encode("utf-8") + b"\0" + record_hash.encode("ascii") + b"\n")
    return h.hexdigest()


def publish(tmp_dir: Path, final_dir: Path, overwrite: bool, command: str = DATASET_COMMAND,
            inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """Renames a finished folder into place, marked as `command`'s (io.outputs): an existing one is
    replaced only with `overwrite` and only if `command` wrote it; anything else there is refused,
    and so is a dataset another process published first. On a refusal `tmp_dir` is deleted."""
    final_dir = Path(final_dir)
    try:
        publish_output(tmp_dir, final_dir, command, force=overwrite, inputs=inputs)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    log.info("wrote %s", final_dir)
    return final_dir


def write_dataset(
    episodes: Iterable[Episode] | Mapping[str, Iterable[Episode]],
    data_dir: str | os.PathLike,
    name: str,
    dataset_spec: Optional[spec.DatasetSpec] = None,
    **kwargs,
) -> Path:
    """Writes episodes (one iterable for split 'train', or {split: episodes}) as a TFDS dataset.

    With no `dataset_spec`, the first episode's sizes define it. Returns the dataset's version folder.
    """
    splits = episodes if isinstance(episodes, Mapping) else {"train": episodes}
    iterators = {split: iter(eps) for split, eps in splits.items()}
    writer = None
    for split, it in iterators.items():
        for episode in it:
            if writer is None:
                writer = DatasetWriter(data_dir, name, dataset_spec or episode.spec(), **kwargs)
            try:
                writer.add(episode, split)
            except BaseException:
                writer.abort()
                raise
    if writer is None:
        raise DatasetError(f"no episodes to write for dataset {name!r}")
    try:
        return writer.commit()
    except BaseException:
        writer.abort()
        raise
