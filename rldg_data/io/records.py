"""TFRecord files, the framing of every shard: the one reader and writer of records.

A TFRecord is a sequence of frames `length (uint64 LE) | masked crc32c(length) | data | masked
crc32c(data)`. `iter_records` reads a shard front to back checking both CRCs (what `rldg
validate`, the readers, the Beam mix and sharing use); `RecordWriter` writes one (the dataset
writer and the Beam parts). For random access, `index_shard` scans only the headers to give each
record's offset, so a loader's epoch can be a global permutation of `read_record` calls (`pread`,
no shuffle buffer, CRCs left to `rldg validate`). No TensorFlow: the framing is TFRecord's own
(tensorflow/core/lib/io/record_writer.cc), CRCs come from `google-crc32c` (C, about 3 GB/s).
A damaged shard raises ContractError naming the file and the record.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional

import google_crc32c

from rldg_data.errors import ContractError, DatasetError

_HEADER = 12
_FOOTER = 4
_MASK_DELTA = 0xA282EAD8


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C of `data` (rotated right by 15 bits plus a constant)."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(record: bytes) -> bytes:
    """One record framed as TFRecord stores it."""
    length = struct.pack("<Q", len(record))
    return b"".join((length, struct.pack("<I", masked_crc(length)), record,
                     struct.pack("<I", masked_crc(record))))


class RecordWriter:
    """Writes records to one TFRecord file (`write`, then `close`; or as a context manager)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)
        self._file: Optional[BinaryIO] = open(self.path, "wb")
        self.num_bytes = 0

    def write(self, record: bytes) -> None:
        data = frame(record)
        self._file.write(data)
        self.num_bytes += len(data)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_records(path: str | os.PathLike, expected_count: Optional[int] = None, *,
                 opened: Optional[Callable[[], None]] = None) -> Iterator[tuple[int, bytes]]:
    """(index, record) of every record of one shard, CRCs checked; ContractError naming the file
    and the record on a missing file, a damaged or truncated frame, or a count other than
    `expected_count` (dataset_info.json's shard length). `opened()` is called once the file is
    open (or found missing), before any record is read: the reader's check that the dataset was
    not swapped meanwhile (`DatasetFiles.check_unchanged`)."""
    path = str(path)
    if not os.path.isfile(path):
        if opened:
            opened()
        raise ContractError("shard file is missing", file=path)
    index = 0
    with open(path, "rb", buffering=1 << 20) as f:
        if opened:
            opened()
        while True:
            header = f.read(_HEADER)
            if not header:
                break
            if len(header) < _HEADER:
                raise _damage(path, index, "truncated record header")
            length_bytes, (length_crc,) = header[:8], struct.unpack("<I", header[8:])
            if masked_crc(length_bytes) != length_crc:
                raise _damage(path, index, "damaged record header (length CRC mismatch)")
            (length,) = struct.unpack("<Q", length_bytes)
            data = f.read(length)
            footer = f.read(_FOOTER)
            if len(data) < length or len(footer) < _FOOTER:
                raise _damage(path, index, f"truncated record ({length} bytes announced, file ends first)")
            if masked_crc(data) != struct.unpack("<I", footer)[0]:
                raise _damage(path, index, "damaged record (data CRC mismatch)")
            yield index, data
            index += 1
    if expected_count is not None and index != expected_count:
        raise ContractError(f"shard holds {index} records, dataset_info.json says {expected_count}",
                            file=path, hint="the shard is truncated; rebuild the dataset")


def _damage(path: str, index: int | str, what: str) -> ContractError:
    return ContractError(f"{what} at record {index}", file=path, episode_id=f"#{index} in file",
                         hint="the shard is truncated or corrupted; rebuild the dataset")


@dataclasses.dataclass(frozen=True)
class RecordRef:
    """Where one serialized episode lies: dataset index, shard file, byte offset, byte length."""

    dataset: int
    shard: str
    offset: int
    length: int


def index_shard(path: Path, expected: int | None = None) -> list[tuple[int, int]]:
    """(offset, length) of every record of one shard, reading only the 12-byte headers."""
    out, problem = scan_shard(path)
    if problem is not None:
        raise problem
    if expected is not None and len(out) != expected:
        raise ContractError(f"shard holds {len(out)} records, dataset_info.json says {expected}",
                            file=str(path), hint="the shard is truncated; rebuild the dataset")
    return out


def scan_shard(path: str | os.PathLike) -> tuple[list[tuple[int, int]], Optional[ContractError]]:
    """(offset, length) of the records of one shard up to the first broken frame header, and the
    ContractError of that header (None if the file ends cleanly): a viewer keeps what is readable
    of a truncated shard. Only the 12-byte headers are read; the length CRC is checked."""
    path = str(path)
    if not os.path.isfile(path):
        return [], ContractError("shard file is missing", file=path)
    out: list[tuple[int, int]] = []
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            header = f.read(_HEADER)
            if len(header) < _HEADER:
                return out, ContractError(f"truncated record header at byte {pos}", file=path,
                                          episode_id=f"#{len(out)} in file", hint="rebuild the dataset")
            if masked_crc(header[:8]) != struct.unpack("<I", header[8:])[0]:
                return out, _damage(path, len(out), "damaged record header (length CRC mismatch)")
            (length,) = struct.unpack("<Q", header[:8])
            end = pos + _HEADER + length + _FOOTER
            if end > size:
                return out, ContractError(f"record of {length} bytes runs past the end of the file",
                                          file=path, episode_id=f"#{len(out)} in file",
                                          hint="the shard is truncated; rebuild the dataset")
            out.append((pos + _HEADER, length))
            pos = end
            f.seek(pos)
    return out, None


def read_record_checked(ref: RecordRef, index: Optional[int] = None) -> bytes:
    """The record at `ref` with its data CRC checked (one pread of data and footer);
    ContractError naming the file and record if it does not match."""
    fd = os.open(ref.shard, os.O_RDONLY)
    try:
        data = os.pread(fd, ref.length + _FOOTER, ref.offset)
    finally:
        os.close(fd)
    label = index if index is not None else f"at byte {ref.offset}"
    if len(data) != ref.length + _FOOTER:
        raise _damage(ref.shard, label, "truncated record")
    record, footer = data[:ref.length], data[ref.length:]
    if masked_crc(record) != struct.unpack("<I", footer)[0]:
        raise _damage(ref.shard, label, "damaged record (data CRC mismatch)")
    return record


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
