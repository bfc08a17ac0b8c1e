"""Statistics in Beam workers: per-shard accumulators, packed small.

Accumulators are `rldg_data.stats.accumulators.StatsAccumulator`s: integer sums, min/max and a fixed-layout
histogram sketch, so partial results merge exactly in any order (identical statistics on any
runner and worker count). The mix's build DoFn fills one accumulator per source shard and writes
it packed (`pack`: pickle + zlib; the sketch is ~0.9 MB dense but mostly zeros, ~30 KB packed)
beside the shard's part files; the driver merges them (`mix.pipeline.merge_stats_parts`). No
Beam combine: on the DaskRunner a GroupByKey is an all-to-all shuffle that cost more than the
build itself (BENCHMARKS.md, "mix scaling").
"""

from __future__ import annotations

import pickle
import zlib

from rldg_data.contract.episode import Episode
from rldg_data.stats.accumulators import StatsAccumulator, statistics_arrays


def stats_arrays(episode: Episode) -> dict:
    """The part of an episode statistics count (`stats.statistics_arrays`)."""
    return statistics_arrays(episode.steps)


def pack(acc: StatsAccumulator) -> bytes:
    """A compact, exact serialization of an accumulator (for crossing between workers)."""
    return zlib.compress(pickle.dumps(acc, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(blob: bytes) -> StatsAccumulator:
    return pickle.loads(zlib.decompress(blob))
