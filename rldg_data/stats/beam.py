"""Statistics in Beam workers: per-shard accumulators, packed small.

Accumulators are `rldg_data.stats.accumulators.StatsAccumulator`s: integer sums, min/max and a fixed-layout
histogram sketch, so partial results merge exactly in any order (identical statistics on any
runner and worker count). The mix's build DoFn fills one accumulator per source shard and writes
it packed (`pack`: the sketch is ~0.9 MB dense but mostly zeros, so only its non-zero cells)
beside the shard's part files; the driver merges them (`mix.pipeline.merge_stats_parts`). No
Beam combine: on the DaskRunner a GroupByKey is an all-to-all shuffle that cost more than the
build itself (BENCHMARKS.md, "mix scaling").
"""

from __future__ import annotations

import json
import struct

import numpy as np

from rldg_data.errors import DatasetError
from rldg_data.contract.episode import Episode
from rldg_data.stats.accumulators import FieldStats, StatsAccumulator, statistics_arrays

_MAGIC = b"RLDGACC1"


def stats_arrays(episode: Episode) -> dict:
    """The part of an episode statistics count (`stats.statistics_arrays`)."""
    return statistics_arrays(episode.steps)


def pack(acc: StatsAccumulator) -> bytes:
    """A compact, exact serialization of an accumulator (for crossing between workers).

    A JSON header (counts, the exact integer sums, float32 min/max) and, per field, the flat
    indices and counts of its histogram's non-zero cells (counts in the smallest unsigned type
    that holds them). A shard's histograms are mostly zeros, so this packs and unpacks several
    times faster than pickle + zlib of the dense arrays (BENCHMARKS.md, "Design measurements"). No pickle: reading one
    runs no code."""
    header: dict = {"num_trajectories": acc.num_trajectories, "fields": {}}
    body = []
    for name, field in acc.fields.items():
        if field.dims is None:
            header["fields"][name] = None
            continue
        flat = field.hist.reshape(-1)
        index = np.flatnonzero(flat).astype(np.int32)
        counts = flat[index]
        dtype = np.min_scalar_type(int(counts.max())) if len(counts) else np.dtype(np.uint8)
        header["fields"][name] = {
            "count": field.count, "dims": field.dims, "sums": field.sums, "sumsqs": field.sumsqs,
            "min": field.min.tolist(), "max": field.max.tolist(), "cells": len(index), "dtype": dtype.str}
        body += [index.tobytes(), counts.astype(dtype).tobytes()]
    head = json.dumps(header).encode()
    return b"".join([_MAGIC, struct.pack("<I", len(head)), head, *body])


def unpack(blob: bytes) -> StatsAccumulator:
    """The accumulator `pack` wrote; ValueError if `blob` is not one."""
    if blob[:len(_MAGIC)] != _MAGIC:
        raise DatasetError("not a packed statistics accumulator (no RLDGACC1 header)")
    at = len(_MAGIC) + 4
    (size,) = struct.unpack("<I", blob[len(_MAGIC):at])
    header = json.loads(blob[at:at + size])
    at += size
    acc = StatsAccumulator()
    acc.num_trajectories = header["num_trajectories"]
    for name, meta in header["fields"].items():
        field = acc.fields[name] = FieldStats()
        if meta is None:
            continue
        field._init(meta["dims"])
        field.count, field.sums, field.sumsqs = meta["count"], meta["sums"], meta["sumsqs"]
        field.min = np.asarray(meta["min"], np.float32)
        field.max = np.asarray(meta["max"], np.float32)
        cells, dtype = meta["cells"], np.dtype(meta["dtype"])
        index = np.frombuffer(blob, np.int32, cells, at)
        at += index.nbytes
        counts = np.frombuffer(blob, dtype, cells, at)
        at += counts.nbytes
        field.hist.reshape(-1)[index] = counts
    if at != len(blob):
        raise DatasetError(f"packed statistics accumulator: {len(blob) - at} bytes past its end")
    return acc
