"""Beam wrappers of the pure transforms give what the pure functions give."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from rldg_data.mix.beam_transforms import DedupById, FilterEpisodes, RelabelEpisodes, StitchHandoffs
from rldg_data.mix.recipe import FilterConfig, RelabelConfig
from tests.factories import make_episode, make_episodes


def test_filter_relabel_dedup_and_stitch_in_a_pipeline():
    eps = make_episodes(8, image_size=8)
    with beam.Pipeline() as p:
        kept = (p | "Eps" >> beam.Create(eps) | FilterEpisodes(FilterConfig(success_only=True))
                | RelabelEpisodes(RelabelConfig(language=(("*", "go {variant}"),)))
                | beam.Map(lambda e: (e.episode_id, str(e.steps["language_instruction"][0]))))
        assert_that(kept, equal_to([(e.episode_id, f"go {e.metadata.variant}") for e in eps if e.metadata.success]),
                    label="filtered")
        dup = [(1, make_episode("a", seed=1)), (0, make_episode("a", seed=2)), (0, make_episode("b"))]
        deduped = p | "Dup" >> beam.Create(dup) | DedupById() | "Seeds" >> beam.Map(lambda e: (e.episode_id, e.metadata.seed))
        assert_that(deduped, equal_to([("a", 2), ("b", 0)]), label="dedup")
        human = p | "H" >> beam.Create([("k", (make_episode("h", length=6, source="human"), 3))])
        rl = p | "R" >> beam.Create([("k", make_episode("r", length=4, source="rl"))])
        stitched = {"human": human, "specialist": rl} | StitchHandoffs() | "Len" >> beam.Map(len)
        assert_that(stitched, equal_to([7]), label="stitch")
