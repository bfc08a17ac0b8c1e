"""Reading a TFDS contract dataset from disk back into `Episode`s.

`open_dataset(path)` resolves a dataset folder (a version folder, or a dataset folder holding
versions) and reads TFDS's own metadata (`dataset_info.json`, `features.json`, as JSON: no
TensorFlow); `iter_episodes()` streams episodes shard by shard (`iter_shard`), parsing each record
with the dataset's declared shapes and checking it (`codec.check_record`). A damaged shard
(truncated, flipped bytes: TFRecord CRC mismatch) raises ContractError naming the file and record.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from rldg_data.contract import spec, tfds_json
from rldg_data.contract.episode import Episode
from rldg_data.errors import ConfigError, ContractError, DatasetError
from rldg_data.io.codec import check_record_example, decode_episode
from rldg_data.io.records import RecordRef, index_shard, iter_records


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
    info_identity: Optional[tuple[int, int, int]] = None  # (device, inode, mtime ns) of the dataset_info.json read

    def check_unchanged(self) -> None:
        """DatasetError when the folder now holds another dataset_info.json than the one read: a
        rebuild swapped the dataset in meanwhile. Called right after each shard is opened, so a
        reader gets the dataset it started with, whole, or this error; never a mixture."""
        if self.info_identity is None:
            return
        try:
            st = os.stat(self.path / "dataset_info.json")
            now = (st.st_dev, st.st_ino, st.st_mtime_ns)
        except OSError:
            now = None
        if now != self.info_identity:
            raise DatasetError(f"{self.path} was replaced while it was being read (a rebuild finished "
                               "meanwhile); read it again")

    @property
    def num_episodes(self) -> int:
        return sum(sum(v) for v in self.shard_lengths.values())


def resolve_dataset_dir(path: str | os.PathLike) -> Path:
    """The version folder of a dataset: `path` itself if it holds dataset_info.json, else its
    newest version subfolder that does, else (a TFDS builder folder with one config holding a
    dataset) that config's newest version; with several configs the error lists them."""
    path = Path(path)
    if (path / "dataset_info.json").is_file():
        return path
    versions = _version_dirs(path)
    if versions:
        return max(versions, key=lambda p: _version_key(p.name))
    # <data_dir>/<builder>: TFDS puts a builder-config level in between (rldg_rollouts/default/1.0.0)
    configs = sorted(p for p in _subfolders(path) if _version_dirs(p))
    if len(configs) == 1:
        return resolve_dataset_dir(configs[0])
    hint = (f"; did you mean {' or '.join(str(c) for c in configs)}?" if configs else
            "; give the folder that `tfds build` or `rldg` wrote")
    raise DatasetError(f"{path} is not a TFDS dataset folder (no dataset_info.json in it or in a "
                       f"version subfolder){hint}")


def _subfolders(path: Path) -> list[Path]:
    # hidden folders are our writers' temporaries; `incomplete.*` are TFDS's (a killed build)
    if not path.is_dir():
        return []
    return [p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "incomplete."))]


def _version_dirs(path: Path) -> list[Path]:
    return [p for p in _subfolders(path) if (p / "dataset_info.json").is_file()]


def _version_key(name: str) -> tuple:
    try:
        return tuple(int(x) for x in name.split("."))
    except ValueError:
        return (-1, name)


def open_dataset(path: str | os.PathLike) -> DatasetFiles:
    """Reads the metadata of a dataset folder (no records yet)."""
    folder = resolve_dataset_dir(path)
    try:
        with open(folder / "dataset_info.json", "rb") as f:
            st = os.fstat(f.fileno())
            info = json.loads(f.read())
        identity = (st.st_dev, st.st_ino, st.st_mtime_ns)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{folder / 'dataset_info.json'}: unreadable ({exc})") from exc
    name = info.get("name", folder.parent.name)
    version = info.get("version", folder.name)
    data_spec, spec_error = None, None
    try:
        data_spec = spec_from_features_json(folder / "features.json")
    except (OSError, ValueError, KeyError, TypeError, IndexError, ConfigError, ContractError) as exc:
        spec_error = f"features are not a contract dataset's: {exc}"  # not a contract's
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
    return DatasetFiles(folder, name, version, data_spec, shards, lengths, spec_error, identity)


def spec_from_features_json(path: Path) -> spec.DatasetSpec:
    """The `DatasetSpec` of a dataset from TFDS's `features.json` (what `tfds_json.features_for` wrote),
    read as JSON. ContractError names a missing or malformed contract feature."""
    root = json.loads(Path(path).read_text())

    def children(node: dict, where: str) -> dict:
        try:
            return node["featuresDict"]["features"]
        except (KeyError, TypeError):
            raise ContractError(f"{where} is not a FeaturesDict") from None

    def shape(node: dict, kind: str, where: str) -> list[int]:
        try:
            return [int(d) for d in node[kind]["shape"].get("dimensions", [])]
        except (KeyError, TypeError, AttributeError):
            raise ContractError(f"{where} has no {kind} shape") from None

    try:
        sequence = children(root, "features")[spec.STEPS]["sequence"]["feature"]
    except (KeyError, TypeError):
        raise ContractError(f"no {spec.STEPS} (a Dataset of steps)") from None
    step = children(sequence, spec.STEPS)
    obs = children(step["observation"], "steps/observation") if "observation" in step else {}
    for name in ("image", "state"):
        if name not in obs:
            raise ContractError(f"no steps/observation/{name}")
    if "action" not in step:
        raise ContractError("no steps/action")
    image = shape(obs["image"], "image", "steps/observation/image")
    state = shape(obs["state"], "tensor", "steps/observation/state")
    action = shape(step["action"], "tensor", "steps/action")
    encoding = obs["image"]["image"].get("encodingFormat") or "png"
    privileged = shape(obs["privileged_state"], "tensor", "steps/observation/privileged_state")[0] \
        if "privileged_state" in obs else 0
    return spec.DatasetSpec(image_size=image[0], wrist="wrist_image" in obs, state_dim=state[0],
                            action_dim=action[0], image_encoding=encoding if encoding in ("jpeg", "png") else "png",
                            privileged_dim=privileged)


def iter_shard(path: str | os.PathLike, count: Optional[int], data_spec: Optional[spec.DatasetSpec], *,
               decode_images: bool = True, validate: bool = True,
               opened: Optional[Callable[[], None]] = None) -> Iterator[Episode]:
    """Episodes of one shard file in order. With `validate`, each is checked against the contract
    (and, with decoded images, the spec's shapes); the first problem raises, naming the file."""
    if validate:
        yield from (episode for episode, _ in iter_shard_examples(path, count, data_spec,
                                                                   decode_images=decode_images, opened=opened))
        return
    path = str(path)
    for _, record in iter_records(path, count, opened=opened):
        yield decode_episode(record, file=path, decode_image_fields=decode_images, expected=data_spec)


def iter_shard_examples(path: str | os.PathLike, count: Optional[int], data_spec: Optional[spec.DatasetSpec], *,
                        decode_images: bool = True, opened: Optional[Callable[[], None]] = None
                        ) -> Iterator[tuple[Episode, object]]:
    """`iter_shard`'s checked episodes, each with its parsed `tf.train.Example` (what `codec.restamp`
    re-serializes when an episode is written back unchanged); the first problem raises, naming the file."""
    path = str(path)
    for index, record in iter_records(path, count, opened=opened):
        episode, example, problems = check_record_example(record, file=path, index=index, expected=data_spec,
                                                          decode_images=decode_images)
        if problems:
            raise problems[0]
        yield episode, example


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
            yield from iter_shard(shard, count, files.spec, decode_images=decode_images, validate=validate,
                                  opened=files.check_unchanged)


def read_episodes(path: str | os.PathLike, split: Optional[str] = None, **kwargs) -> list[Episode]:
    """All episodes of a dataset as a list (for small datasets, tests and notebooks)."""
    return list(iter_episodes(path, split, **kwargs))


def index_datasets(paths: Sequence[str | os.PathLike], split: str = "train") -> tuple[list[DatasetFiles], list[RecordRef]]:
    """Opens each dataset and indexes every record of `split`; DatasetError if a dataset lacks it."""
    files, refs = [], []
    for i, path in enumerate(paths):
        ds = open_dataset(path)
        if ds.spec_error:
            raise ContractError(ds.spec_error, file=str(ds.path / "features.json"))
        if split not in ds.shards:
            raise DatasetError(f"{ds.path}: no split {split!r} (has {sorted(ds.shards)})")
        files.append(ds)
        for shard, count in zip(ds.shards[split], ds.shard_lengths[split]):
            refs.extend(RecordRef(i, str(shard), off, n) for off, n in index_shard(shard, count))
    return files, refs
