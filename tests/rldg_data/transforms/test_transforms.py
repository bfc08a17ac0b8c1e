"""Pure episode transforms: filters, relabels, stitching, action relabeling, dedup."""

from __future__ import annotations

import numpy as np
import pytest

from rldg_data.contract.check import validate_episode
from rldg_data.contract import spec
from rldg_data import transforms as T
from rldg_data.errors import ContractError
from tests.factories import make_episode


def test_filters_keep_what_they_say():
    ep = make_episode(length=6, success=False, variant="vga")
    assert not T.success_only(ep) and T.success_only(make_episode(success=True))
    assert T.length_between(ep, 6, 6) and not T.length_between(ep, 7) and not T.length_between(ep, None, 5)
    assert T.actions_within(ep, 1.0) and not T.actions_within(ep, 0.01)
    assert T.metadata_in(ep, "variant", ["vga"]) and not T.metadata_in(ep, "split", ["unseen"])
    assert T.step_sources_in(ep, ["rl"]) and not T.step_sources_in(ep, ["human"])


def test_sparse_reward_and_return_to_go():
    ep = T.relabel_sparse_reward(make_episode(length=4, success=True))
    assert ep.steps[spec.REWARD].tolist() == [0, 0, 0, 1] and ep.metadata.episode_return == 1.0
    assert T.return_to_go(ep, 0.5).tolist() == [0.125, 0.25, 0.5, 1.0]
    failed = T.relabel_sparse_reward(make_episode(length=4, success=False))
    assert failed.steps[spec.REWARD].sum() == 0 and validate_episode(failed)


def test_language_from_template_table_most_specific_key_wins():
    ep = make_episode(variant="usb_c", task="insertion")
    table = {"*": "do it", "usb_c": "plug the {variant}", "insertion/usb_c": "insert {variant} ({task})"}
    assert str(T.relabel_language(ep, table).steps[spec.LANGUAGE_INSTRUCTION][0]) == "insert usb_c (insertion)"
    assert T.relabel_language(ep, {"vga": "x"}) is ep
    with pytest.raises(ContractError, match="unknown field"):
        T.relabel_language(ep, {"*": "{colour}"})


def test_stages_from_handoffs_and_sources():
    ep = make_episode(length=6)
    assert T.stages_from_handoffs(ep, [2, 4]).steps[spec.STAGE].tolist() == [0, 0, 1, 1, 2, 2]
    mixed = ep.replace({spec.SOURCE: np.array(["human", "human", "rl", "rl", "human", "human"])})
    assert T.stages_from_sources(mixed).steps[spec.STAGE].tolist() == [0, 0, 1, 1, 2, 2]


def test_hindsight_goal_is_the_reached_frame():
    ep = make_episode(length=5)
    goals = T.hindsight_goal_images(ep)
    assert np.array_equal(goals[0], ep.steps[spec.IMAGE][-1])
    assert np.array_equal(T.hindsight_goal_images(ep, 2)[1], ep.steps[spec.IMAGE][3])


def test_stitch_keeps_sources_and_stages_and_fixes_flags():
    human = make_episode("h", length=6, source="human", success=False)
    human = T.stages_from_handoffs(human, [3])
    rl = make_episode("r", length=4, source="rl", success=True)
    rl = rl.replace({spec.STAGE: np.full(4, 1, np.int32)})
    out = T.stitch_handoff(human, rl, handoff=3)
    assert len(out) == 7 and validate_episode(out)
    assert out.steps[spec.SOURCE].tolist() == ["human"] * 3 + ["rl"] * 4
    assert out.steps[spec.STAGE].tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert out.steps[spec.IS_FIRST].sum() == 1 and out.steps[spec.IS_LAST].tolist()[-1]
    assert out.metadata.policy_id == "human-policy+rl-policy" and out.metadata.success
    with pytest.raises(ContractError, match="hand-off"):
        T.stitch_handoff(human, rl, handoff=0)


class _Half:
    """A tiny deterministic state policy: action = 0.5 * state (clipped by the transform)."""

    policy_id = "half"

    def reset(self, seed=None):
        self.calls = 0

    def act(self, observation):
        self.calls += 1
        return 0.5 * observation["state"]


def test_action_relabel_replaces_human_steps_only():
    ep = make_episode(length=5, source="human")
    ep = ep.replace({spec.SOURCE: np.array(["human", "human", "rl", "human", "human"])})
    out = T.relabel_actions(ep, _Half())
    expect = np.clip(0.5 * ep.steps[spec.STATE], -1, 1)
    for t in (0, 1, 3):
        assert np.allclose(out.actions[t], expect[t])
    assert np.array_equal(out.actions[2], ep.actions[2]) and np.array_equal(out.actions[4], ep.actions[4])
    assert out.metadata.policy_id.endswith("+actions:half") and validate_episode(out)


def test_dedup_keeps_first_occurrence():
    eps = [make_episode("a", seed=1), make_episode("b"), make_episode("a", seed=2)]
    out = list(T.dedup_by_id(eps))
    assert [e.episode_id for e in out] == ["a", "b"] and out[0].metadata.seed == 1
