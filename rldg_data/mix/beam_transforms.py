"""Beam PTransforms over PCollections of `Episode`s, each wrapping a pure `rldg_data.transforms` function.

For pipelines users compose themselves (a notebook, a custom builder); `mix` uses the same pure
functions inside its reading DoFns so that episodes are never shuffled between workers.
"""

from __future__ import annotations

from typing import Callable, Optional

import apache_beam as beam

from rldg_data.mix import episode_ops
from rldg_data.mix.recipe import FilterConfig, RelabelConfig
from rldg_data.transforms.stitch import stitch_handoff


class FilterEpisodes(beam.PTransform):
    """Keeps the episodes that pass a recipe `FilterConfig`."""

    def __init__(self, config: FilterConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, pcoll):
        return pcoll | beam.Filter(episode_ops.passes_filters, self.config)


class RelabelEpisodes(beam.PTransform):
    """Applies a recipe `RelabelConfig`; `policy_factory` builds the policy (once per worker) for
    action relabels, e.g. `lambda: load_policy(path)`."""

    def __init__(self, config: RelabelConfig, policy_factory: Optional[Callable] = None) -> None:
        super().__init__()
        self.config, self.policy_factory = config, policy_factory

    def expand(self, pcoll):
        return pcoll | beam.ParDo(_Relabel(self.config, self.policy_factory))


class _Relabel(beam.DoFn):
    def __init__(self, config, policy_factory) -> None:
        self.config, self.policy_factory = config, policy_factory
        self.policy = None

    def process(self, episode):
        if self.policy is None and self.policy_factory is not None:
            self.policy = self.policy_factory()
        yield episode_ops.apply_relabels(episode, self.config, self.policy)


def _first_by_order(element):
    _, episodes = element
    yield min(episodes, key=lambda e: e[0])[1]


class DedupById(beam.PTransform):
    """One episode per `episode_id`: the one with the smallest `order` (e.g. recipe source index),
    never whichever a worker saw first. Input: (order, episode) pairs."""

    def expand(self, pcoll):
        return (pcoll | "ById" >> beam.Map(lambda oe: (oe[1].episode_id, oe))
                | "Group" >> beam.GroupByKey() | "First" >> beam.FlatMap(_first_by_order))


def _stitch(element):
    _, groups = element
    humans, specialists = list(groups["human"]), list(groups["specialist"])
    if len(humans) == 1 and len(specialists) == 1:
        human, handoff = humans[0]
        yield stitch_handoff(human, specialists[0], handoff)


class StitchHandoffs(beam.PTransform):
    """Joins {"human": (key, (episode, handoff_step)), "specialist": (key, episode)} on the hand-off
    key (e.g. the human episode id the specialist started from) into stitched episodes."""

    def expand(self, pcolls):
        return pcolls | "Join" >> beam.CoGroupByKey() | "Stitch" >> beam.FlatMap(_stitch)
