"""Cleaning a hand-off episode: the human segment loses its pauses, the specialist's stays as recorded."""

from __future__ import annotations

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.check import validate_episode
from rldg_data.transforms.pauses import trim_pauses
from rldg_data.transforms.segments import removed_per_source, steps_per_source
from rldg_data.transforms.stitch import stitch_handoff
from tests.factories import make_episode


def _handoff(human_idle=(2, 3, 4), rl_idle=(1, 2)):
    """A 10-step human episode (hand idle at `human_idle`) handed off at step 7 to a 6-step
    specialist episode whose hand is also idle at `rl_idle` (the specialist may hold still: that is
    its behaviour, not a pause to clean)."""
    human = make_episode("h", length=10, source="human", seed=1, task="assembly", variant="round_nut")
    actions = human.actions.copy()
    actions[list(human_idle), :3] = 0.0
    human = human.replace({spec.ACTION: actions})
    rl = make_episode("r", length=6, source="rl", seed=2, task="assembly", variant="round_nut")
    actions = rl.actions.copy()
    actions[list(rl_idle), :3] = 0.0
    rl = rl.replace({spec.ACTION: actions})
    return stitch_handoff(human, rl, handoff=7), rl


def test_trim_pauses_on_a_handoff_removes_human_pauses_and_keeps_the_specialist_segment_exactly():
    episode, rl = _handoff()
    cleaned = validate_episode(trim_pauses(episode))
    assert steps_per_source(episode) == {"human": 7, "rl": 6}
    assert steps_per_source(cleaned) == {"human": 4, "rl": 6}
    assert removed_per_source(episode, cleaned) == {"human": 3, "rl": 0}
    sources = np.asarray(cleaned.steps[spec.SOURCE]).astype(str)
    for key in rl.steps:
        if key in (spec.IS_FIRST, spec.IS_LAST, spec.IS_TERMINAL):
            continue  # re-derived for the stitched episode
        np.testing.assert_array_equal(np.asarray(cleaned.steps[key])[sources == "rl"], np.asarray(rl.steps[key]),
                                      err_msg=key)
    kept_human = [0, 1, 5, 6]
    np.testing.assert_array_equal(cleaned.actions[:4], episode.actions[kept_human])
    assert cleaned.metadata.length == 10 and cleaned.metadata.success == episode.metadata.success
    assert cleaned.steps[spec.IS_FIRST][0] and cleaned.steps[spec.IS_LAST][-1]


def test_a_handoff_without_human_pauses_is_returned_unchanged():
    episode, _ = _handoff(human_idle=(), rl_idle=(1, 2, 3))
    assert trim_pauses(episode) is episode
    assert removed_per_source(episode, episode) == {"human": 0, "rl": 0}
