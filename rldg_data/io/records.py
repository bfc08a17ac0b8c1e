"""Random access to the episodes of TFDS datasets: an offset index of every TFRecord shard.

A TFRecord is a sequence of frames `length (8 bytes) | crc (4) | data | crc (4)`. Scanning only the
headers gives each record's offset, so an epoch's episode order can be a global permutation read
with `os.pread`, with no shuffle buffer at all. CRCs are not checked here (`rldg validate` does);
a truncated shard raises ContractError naming the file and record.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from pathlib import Path
from typing import Sequence

from rldg_data.errors import ContractError, DatasetError
from rldg_data.io.reader import DatasetFiles, open_dataset

_HEADER = 12
_FOOTER = 4


@dataclasses.dataclass(frozen=True)
class RecordRef:
    """Where one serialized episode lies: dataset index, shard file, byte offset, byte length."""

    dataset: int
    shard: str
    offset: int
    length: int


def index_shard(path: Path, expected: int | None = None) -> list[tuple[int, int]]:
    """(offset, length) of every record of one shard, reading only the 12-byte headers."""
    out = []
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            header = f.read(_HEADER)
            if len(header) < _HEADER:
                raise ContractError(f"truncated record header at byte {pos}", file=str(path),
                                    episode_id=f"#{len(out)} in file", hint="rebuild the dataset")
            (length,) = struct.unpack("<Q", header[:8])
            end = pos + _HEADER + length + _FOOTER
            if end > size:
                raise ContractError(f"record of {length} bytes runs past the end of the file",
                                    file=str(path), episode_id=f"#{len(out)} in file",
                                    hint="the shard is truncated; rebuild the dataset")
            out.append((pos + _HEADER, length))
            pos = end
            f.seek(pos)
    if expected is not None and len(out) != expected:
        raise ContractError(f"shard holds {len(out)} records, dataset_info.json says {expected}",
                            file=str(path), hint="the shard is truncated; rebuild the dataset")
    return out


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


def read_record(ref: RecordRef) -> bytes:
    """The serialized episode at `ref` (one pread; safe from many threads)."""
    fd = os.open(ref.shard, os.O_RDONLY)
    try:
        data = os.pread(fd, ref.length, ref.offset)
    finally:
        os.close(fd)
    if len(data) != ref.length:
        raise ContractError(f"short read at byte {ref.offset}", file=ref.shard)
    return data
