"""validate_episode(Episode): every contract rule, reported with episode id, step index and field."""

from __future__ import annotations

import numpy as np
import pytest

from rldg_data.contract.check import episode_violations, validate_episode
from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.contract.episode import check_unique_ids
from rldg_data.errors import ContractError, EpisodeValidationError
from tests.factories import make_episode


def test_valid_episode_passes():
    ep = make_episode(length=6)
    assert validate_episode(ep) is ep
    assert episode_violations(ep) == []


def _broken(mutate):
    ep = make_episode("ep-bad", length=6)
    steps = {k: v.copy() for k, v in ep.steps.items()}
    mutate(steps)
    return Episode(steps, ep.metadata)


CASES = [
    ("nan action", lambda s: s[spec.ACTION].__setitem__((3, 1), np.nan), 3, "steps/action"),
    ("inf state", lambda s: s[spec.STATE].__setitem__((2, 0), np.inf), 2, "steps/observation/state"),
    ("action out of bounds", lambda s: s[spec.ACTION].__setitem__((4, 0), 1.5), 4, "steps/action"),
    ("is_first late", lambda s: s[spec.IS_FIRST].__setitem__(2, True), 2, "steps/is_first"),
    ("is_first missing", lambda s: s[spec.IS_FIRST].__setitem__(0, False), 0, "steps/is_first"),
    ("is_last early", lambda s: s[spec.IS_LAST].__setitem__(1, True), 1, "steps/is_last"),
    ("is_last missing", lambda s: s[spec.IS_LAST].__setitem__(5, False), 5, "steps/is_last"),
    ("bad source", lambda s: s.__setitem__(spec.SOURCE, np.array(["rl"] * 5 + ["robot"])), 5, "steps/source"),
    ("negative stage", lambda s: s[spec.STAGE].__setitem__(3, -1), 3, "steps/stage"),
]


@pytest.mark.parametrize("name,mutate,step,field", CASES, ids=[c[0] for c in CASES])
def test_violation_names_episode_step_field(name, mutate, step, field):
    ep = _broken(mutate)
    with pytest.raises(EpisodeValidationError) as err:
        validate_episode(ep)
    e = err.value
    assert (e.episode_id, e.step, e.field) == ("ep-bad", step, field)
    assert "ep-bad" in str(e) and f"step {step}" in str(e) and field in str(e)


@pytest.mark.parametrize("field,value,expect", [
    (spec.ACTION, np.zeros((6, 4), np.float64), "dtype float64"),
    (spec.IMAGE, np.zeros((6, 16, 16), np.uint8), r"expected \(H, W, 3\)"),
    (spec.STATE, np.zeros((5, 4), np.float32), "has 5 steps"),
    (spec.STAGE, np.zeros(6, np.int64), "dtype int64"),
])
def test_shape_and_dtype_errors(field, value, expect):
    ep = _broken(lambda s: s.__setitem__(field, value))
    with pytest.raises(ContractError, match=expect) as err:
        validate_episode(ep)
    assert err.value.field == f"steps/{field}"


def test_missing_and_unknown_fields():
    ep = _broken(lambda s: (s.pop(spec.REWARD), s.__setitem__("observation/depth", s[spec.STATE])))
    fields = {v.field for v in episode_violations(ep)}
    assert {"steps/reward", "steps/observation/depth"} <= fields


def test_empty_episode_is_an_error():
    ep = make_episode(length=3)
    empty = ep.replace(steps={k: v[:0] for k, v in ep.steps.items()}, length=0)
    with pytest.raises(ContractError, match="empty episode"):
        validate_episode(empty)


def test_metadata_rules():
    ep = make_episode(length=4)
    found = {v.field for v in episode_violations(ep.replace(length=7, split="train", task=""))}
    assert {"episode_metadata/length", "episode_metadata/split", "episode_metadata/task"} <= found


def test_expected_spec_mismatch():
    ep = make_episode(length=4, image_size=16)
    with pytest.raises(ContractError, match="declares"):
        validate_episode(ep, spec.DatasetSpec(image_size=32))


def test_duplicate_ids_reported():
    a, b = make_episode("same"), make_episode("same", seed=2)
    (dup,) = check_unique_ids([a, b, make_episode("other")])
    assert dup.episode_id == "same" and "duplicate" in str(dup)


def test_all_violations_are_collected():
    ep = _broken(lambda s: (s[spec.ACTION].__setitem__((1, 0), np.nan), s[spec.STAGE].__setitem__(2, -3)))
    with pytest.raises(EpisodeValidationError) as err:
        validate_episode(ep)
    assert len(err.value.violations) == 2
