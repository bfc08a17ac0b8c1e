"""Reading a TFDS contract dataset from disk back into `Episode`s.

`open_dataset(path)` resolves a dataset folder (a version folder, or a dataset folder holding
versions) and reads TFDS's own metadata; `iter_episodes()` streams episodes shard by shard,
parsing each record with the dataset's declared shapes. A damaged shard (truncated, flipped
bytes: TFRecord CRC mismatch) raises ContractError naming the file and the record.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Iterator, Optional

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError, DatasetError
from rldg_data.io.tfexample import decode_episode


@dataclasses.dataclass(frozen=True)
class DatasetFiles:
    """A dataset on disk: its folder, name, version, spec and shard files per split."""

    path: Path
    name: str
    version: str
    spec: Optional[spec.DatasetSpec]
    shards: dict[str, list[Path]]
    shard_lengths: dict[str, list[int]]
    spec_error: Optional[str] = None

    @property
    def num_episodes(self) -> int:
        return sum(sum(v) for v in self.shard_lengths.values())


def resolve_dataset_dir(path: str | os.PathLike) -> Path:
    """The version folder of a dataset: `path` itself if it holds dataset_info.json, else its
    newest version subfolder that does."""
    path = Path(path)
    if (path / "dataset_info.json").is_file():
        return path
    if path.is_dir():
        # hidden folders are our writers' temporaries; `incomplete.*` are TFDS's (a killed build)
        versions = [p for p in path.iterdir()
                    if p.is_dir() and not p.name.startswith((".", "incomplete."))
                    and (p / "dataset_info.json").is_file()]
        if versions:
            return max(versions, key=lambda p: _version_key(p.name))
    raise DatasetError(f"{path} is not a TFDS dataset folder (no dataset_info.json in it or in a "
                       f"version subfolder); give the folder that `tfds build` or `rldg` wrote")


def _version_key(name: str) -> tuple:
    try:
        return tuple(int(x) for x in name.split("."))
    except ValueError:
        return (-1, name)


def open_dataset(path: str | os.PathLike) -> DatasetFiles:
    """Reads the metadata of a dataset folder (no records yet)."""
    folder = resolve_dataset_dir(path)
    try:
        info = json.loads((folder / "dataset_info.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{folder / 'dataset_info.json'}: unreadable ({exc})") from exc
    name = info.get("name", folder.parent.name)
    version = info.get("version", folder.name)
    data_spec, spec_error = None, None
    try:
        data_spec = spec.spec_from_features(_load_features(folder))
    except Exception as exc:  # a dataset whose features are not the contract's
        spec_error = f"features are not a contract dataset's: {exc!r}"
    shards: dict[str, list[Path]] = {}
    lengths: dict[str, list[int]] = {}
    for split in info.get("splits", []):
        split_name = split["name"]
        split_lengths = [int(x) for x in split.get("shardLengths", [])]
        count = len(split_lengths)
        fmt = info.get("fileFormat", "tfrecord")
        shards[split_name] = [folder / f"{name}-{split_name}.{fmt}-{i:05d}-of-{count:05d}"
                              for i in range(count)]
        lengths[split_name] = split_lengths
    return DatasetFiles(folder, name, version, data_spec, shards, lengths, spec_error)


def _load_features(folder: Path):
    import tensorflow_datasets as tfds

    return tfds.features.FeatureConnector.from_config(str(folder))


def iter_records(path: Path, expected_count: Optional[int] = None) -> Iterator[tuple[int, bytes]]:
    """(index, serialized record) of one TFRecord shard; ContractError on damage or a short shard."""
    import tensorflow as tf

    if not path.is_file():
        raise ContractError("shard file is missing", file=str(path))
    index = -1
    try:
        for index, record in enumerate(tf.data.TFRecordDataset(str(path)).as_numpy_iterator()):
            yield index, record
    except (tf.errors.DataLossError, tf.errors.OutOfRangeError, tf.errors.InvalidArgumentError) as exc:
        raise ContractError(f"damaged TFRecord after record {index}: {exc.message.splitlines()[0]}",
                            file=str(path), episode_id=f"#{index + 1} in file",
                            hint="the shard is truncated or corrupted; rebuild the dataset") from exc
    if expected_count is not None and index + 1 != expected_count:
        raise ContractError(f"shard holds {index + 1} records, dataset_info.json says {expected_count}",
                            file=str(path), hint="the shard is truncated; rebuild the dataset")


def iter_episodes(
    path: str | os.PathLike,
    split: Optional[str] = None,
    *,
    decode_images: bool = True,
    validate: bool = True,
) -> Iterator[Episode]:
    """Episodes of a dataset (all splits, or one), in file order.

    With `validate`, each episode is checked against the contract and the dataset's spec, and the
    first violation raises (with the file named). `rldg validate` collects all of them instead.
    """
    files = open_dataset(path)
    if files.spec_error:
        raise ContractError(files.spec_error, file=str(files.path / "features.json"))
    splits = [split] if split else list(files.shards)
    for split_name in splits:
        if split_name not in files.shards:
            raise DatasetError(f"{files.path}: no split {split_name!r} (has {sorted(files.shards)})")
        for shard, count in zip(files.shards[split_name], files.shard_lengths[split_name]):
            for _, record in iter_records(shard, count):
                episode = decode_episode(record, file=str(shard), decode_image_fields=decode_images,
                                         expected=files.spec)
                if validate:
                    found = episode.violations(files.spec if decode_images else None)
                    if found:
                        raise found[0].located(file=str(shard))
                yield episode


def read_episodes(path: str | os.PathLike, split: Optional[str] = None, **kwargs) -> list[Episode]:
    """All episodes of a dataset as a list (for small datasets, tests and notebooks)."""
    return list(iter_episodes(path, split, **kwargs))
