"""Statistics in Beam: per-shard accumulators, packed small, merged by a combiner.

Accumulators are `rldg_data.stats.accumulators.StatsAccumulator`s: integer sums, min/max and a fixed-layout
histogram sketch, so partial results merge exactly in any order (identical statistics on any
runner and worker count). The mix's build DoFn fills one accumulator per source shard and emits
it packed (`pack`: pickle + zlib; the sketch is ~0.9 MB dense but mostly zeros, ~30 KB packed):
what crosses the wire is one small blob per shard, never per-episode arrays. `MergeStats` merges
packed accumulators; on runners that lift combiners (the FnApiRunner, Dataflow) workers merge
their shards before the shuffle, on the DaskRunner (no lifting) the per-shard blobs are grouped.
"""

from __future__ import annotations

import pickle
import zlib

import apache_beam as beam

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


class _PackedCoder(beam.coders.Coder):
    """Encodes accumulators with `pack` (lifted partial merges cross the wire this small)."""

    def encode(self, value: StatsAccumulator) -> bytes:
        return pack(value)

    def decode(self, encoded: bytes) -> StatsAccumulator:
        return unpack(encoded)

    def is_deterministic(self) -> bool:
        return False


class MergeStats(beam.CombineFn):
    """Packed accumulators -> the statistics dict (`dataset_statistics.json` layout)."""

    def create_accumulator(self) -> StatsAccumulator:
        return StatsAccumulator()

    def add_input(self, acc: StatsAccumulator, blob: bytes) -> StatsAccumulator:
        return acc.merge(unpack(blob))

    def merge_accumulators(self, accs) -> StatsAccumulator:
        accs = iter(accs)
        out = next(accs, None) or StatsAccumulator()
        for acc in accs:
            out.merge(acc)
        return out

    def extract_output(self, acc: StatsAccumulator) -> dict:
        return acc.to_dict()

    def get_accumulator_coder(self) -> beam.coders.Coder:
        return _PackedCoder()
