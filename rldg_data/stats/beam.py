"""`ComputeStats`: statistics of a PCollection of episodes per key, as a Beam CombineFn.

Accumulators are `rldg_data.stats.accumulators.StatsAccumulator`s: integer sums, min/max and a fixed-layout
histogram sketch, so partial results merge exactly in any order (identical statistics on any
runner and worker count). Elements are small: {"action": [T, A], "proprio": [T, S]} per episode.
"""

from __future__ import annotations

import apache_beam as beam

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.stats.accumulators import StatsAccumulator


def stats_arrays(episode: Episode) -> dict:
    """The part of an episode statistics need (action and proprio arrays)."""
    return {"action": episode.steps[spec.ACTION], "proprio": episode.steps[spec.STATE]}


class StatsCombineFn(beam.CombineFn):
    def create_accumulator(self) -> StatsAccumulator:
        return StatsAccumulator()

    def add_input(self, acc: StatsAccumulator, arrays) -> StatsAccumulator:
        return acc.add_arrays(arrays)

    def merge_accumulators(self, accs) -> StatsAccumulator:
        accs = iter(accs)
        out = next(accs, None) or StatsAccumulator()
        for acc in accs:
            out.merge(acc)
        return out

    def extract_output(self, acc: StatsAccumulator) -> dict:
        return acc.to_dict()


class ComputeStats(beam.PTransform):
    """(key, episode) -> (key, statistics dict) in the dataset_statistics.json layout."""

    def expand(self, pcoll):
        return (pcoll
                | "StatsArrays" >> beam.MapTuple(lambda key, ep: (key, stats_arrays(ep)))
                | "Combine" >> beam.CombinePerKey(StatsCombineFn()))
