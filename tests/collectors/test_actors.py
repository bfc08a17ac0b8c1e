"""Who acts when: hand-offs switch at the bottleneck stage, interventions take over when a policy errs."""

from __future__ import annotations

import numpy as np

from collectors.actors import HandOffActor, InterveningActor, InterventionRule, SingleActor
from tests.collectors.toy_env import WaypointDemonstrator, WrongWay

OBS = {"state": np.zeros(4, np.float32), "privileged_state": np.array([0.8, 0.2], np.float32)}


def test_single_actor_labels_with_the_policy_source():
    action, source = SingleActor(WaypointDemonstrator("human", "h")).act(OBS, 0)
    assert source == "human" and action.dtype == np.float32 and np.all(np.abs(action) <= 1)


def test_handoff_switches_once_at_the_bottleneck_stage():
    actor = HandOffActor(WaypointDemonstrator("human", "h"), WaypointDemonstrator("rl", "ckpt"), 2)
    actor.reset(0)
    labels = [actor.act(OBS, stage)[1] for stage in (0, 1, 2, 1, 0)]
    assert labels == ["human", "human", "rl", "rl", "rl"]  # one way: no hand-back
    assert actor.policy_id == "h>ckpt@stage2"


def test_intervention_takes_over_for_hold_steps_and_is_labelled():
    actor = InterveningActor(WrongWay(), WaypointDemonstrator(), InterventionRule(threshold=0.5, hold_steps=3))
    actor.reset(0)
    steps = [actor.act(OBS, 0) for _ in range(8)]
    labels = [s for _, s in steps]
    assert labels == ["intervention"] * 3 + ["intervention"] * 3 + ["intervention"] * 2
    assert actor.interventions == 3
    np.testing.assert_allclose(steps[0][0], WaypointDemonstrator().act(OBS))


def test_no_intervention_when_the_policy_agrees():
    actor = InterveningActor(WaypointDemonstrator("rl", "ckpt"), WaypointDemonstrator(), InterventionRule(0.5, 3))
    actor.reset(0)
    assert {actor.act(OBS, 0)[1] for _ in range(5)} == {"rl"}
    assert actor.interventions == 0
