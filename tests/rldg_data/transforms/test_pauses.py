"""transforms.pauses: human pauses are dropped, everything else is kept in order."""

from __future__ import annotations

import numpy as np
import pytest

from rldg_data.contract.check import validate_episode
from rldg_data.contract import spec
from rldg_data.mix.episode_ops import apply_relabels
from rldg_data.errors import RecipeError
from rldg_data.mix.recipe import recipe_from_dict
from rldg_data.transforms.pauses import idle_steps, trim_pauses
from tests.factories import make_episode


def _with_pauses(source="human"):
    episode = make_episode(length=8, source=source)
    actions = episode.actions.copy()
    actions[[0, 2, 3, 7], :3] = 0.0  # idle hand at the first step, a 2-step pause, the last step
    actions[[2, 3], 3] = 0.7  # the gripper command alone is not motion
    return episode.replace({spec.ACTION: actions})


def test_trim_pauses_drops_idle_human_steps_and_keeps_first_and_last():
    episode = _with_pauses()
    trimmed = validate_episode(trim_pauses(episode))
    assert list(idle_steps(episode)) == [False, False, True, True, False, False, False, False]
    assert len(trimmed) == 6 and trimmed.metadata.length == 6
    kept = [0, 1, 4, 5, 6, 7]
    for key, values in episode.steps.items():
        np.testing.assert_array_equal(trimmed.steps[key], np.asarray(values)[kept], err_msg=key)
    assert trimmed.steps[spec.IS_FIRST][0] and trimmed.steps[spec.IS_LAST][-1]


def test_trim_pauses_leaves_rl_steps_alone():
    episode = _with_pauses(source="rl")
    assert trim_pauses(episode) is episode


def test_recipe_key_trim_pauses_reaches_the_transform(tmp_path):
    recipe = recipe_from_dict({"name": "clean", "sources": {"human": {
        "path": str(tmp_path), "relabels": {"trim_pauses": True}}}}, check_paths=False)
    cfg = recipe.sources[0].relabels
    assert cfg.trim_pauses
    assert len(apply_relabels(_with_pauses(), cfg)) == 6
    with pytest.raises(RecipeError, match="trim_pauses"):
        recipe_from_dict({"name": "clean", "sources": {"human": {
            "path": str(tmp_path), "relabels": {"trim_pauses": "yes"}}}}, check_paths=False)
