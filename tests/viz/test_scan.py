"""The one-pass dataset view: counts, per-source grouping and the RLDG action measures."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from viz.scan import episode_source, smoothness, speed_profile


def test_view_counts_match_the_written_episodes(viz_view, viz_episodes):
    assert len(viz_view.rows) == len(viz_episodes) == viz_view.summary.episodes
    assert viz_view.summary.steps == sum(len(e) for e in viz_episodes)
    assert {r.episode_id for r in viz_view.rows} == {e.episode_id for e in viz_episodes}
    by_id = {e.episode_id: e for e in viz_episodes}
    for row in viz_view.rows:
        assert row.length == len(by_id[row.episode_id])
        assert row.success == by_id[row.episode_id].metadata.success


def test_actions_are_grouped_by_step_source_without_the_final_observation(viz_view, viz_episodes):
    expected = collections.Counter()
    for episode in viz_episodes:
        expected.update(str(s) for s in episode.sources[:-1])
    assert {k: len(v) for k, v in viz_view.actions.items()} == dict(expected)
    mixed = next(e for e in viz_episodes if e.episode_id == "ep-int")
    got = viz_view.actions["intervention"]
    want = mixed.actions[:-1][mixed.sources[:-1] == "intervention"]
    np.testing.assert_allclose(got, want)


def test_samples_keep_one_encoded_episode_per_source(viz_view):
    assert sorted(episode_source(e.sources) for e in viz_view.samples) == sorted(viz_view.sources)
    assert all(e.steps["observation/image"].dtype == object for e in viz_view.samples)


@pytest.mark.parametrize("sources, expected", [
    (["rl"] * 3, "rl"),
    (["rl", "rl", "intervention"], "intervention"),
    (["human", "rl", "rl"], "rl"),
    (["human", "rl"], "rl"),
])
def test_episode_source(sources, expected):
    assert episode_source(np.array(sources)) == expected


def test_smooth_actions_score_lower_than_jittery_ones():
    t = np.linspace(0, 1, 50)[:, None]
    smooth = np.hstack([np.sin(t * 3)] * 3 + [np.ones_like(t)])
    jittery = smooth + np.random.default_rng(0).normal(0, 0.3, smooth.shape)
    assert smoothness(smooth) < smoothness(jittery) / 5
    assert smoothness(smooth[:1]) == 0.0


def test_speed_profile_ignores_the_gripper_and_resamples_time():
    actions = np.zeros((10, 4), np.float32)
    actions[:, 3] = 1.0  # gripper only: no motion
    actions[5:, 0] = 0.5
    profile = speed_profile(actions, bins=20)
    assert profile.shape == (20,)
    assert profile[0] == 0.0 and profile[-1] == pytest.approx(0.5)
