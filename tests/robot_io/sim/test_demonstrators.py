"""Demonstrators: the expert solves every variant under the strict tests, the human proxy is
slower and less reliable, a VGA-tuned controller does not transfer to unseen connectors."""

from __future__ import annotations

import numpy as np
import pytest

import robot_io
from rldg_data.policy import Policy


def rollout(env, demo, seed):
    obs = env.reset(seed=seed)
    demo.reset(seed=seed)
    for t in range(env.max_episode_steps):
        obs, reward, terminated, truncated, info = env.step(demo.act(obs))
        if terminated or truncated:
            break
    return info["success"], t + 1


def success_rate(task, variant, kind, episodes, tuned_to=None):
    with robot_io.make(task, variant, render=False) as env:
        demo = robot_io.make_demonstrator(kind, env, tuned_to=tuned_to)
        runs = [rollout(env, demo, seed) for seed in range(episodes)]
    return np.mean([s for s, _ in runs]), [n for s, n in runs if s]


ALL = [(t, v) for t in robot_io.TASKS for v in robot_io.variants(t)]


def test_demonstrators_match_the_policy_protocol():
    env = robot_io.make("insertion", "vga", render=False)
    expert, human = (robot_io.make_demonstrator(k, env) for k in ("expert", "human"))
    assert isinstance(expert, Policy) and isinstance(human, Policy)
    assert expert.source == "scripted" and human.source == "human"
    action = human.act(env.reset(seed=0))
    assert action.dtype == np.float32 and action.shape == (4,) and np.all(np.abs(action) <= 1)
    env.close()


@pytest.mark.parametrize("task,variant", ALL)
def test_expert_solves_every_variant_strictly(task, variant):
    rate, lengths = success_rate(task, variant, "expert", episodes=3)
    assert rate == 1.0


def test_human_proxy_is_seeded():
    with robot_io.make("pick_place", "red_cylinder", render=False) as env:
        human = robot_io.make_demonstrator("human", env, seed=5)
        a = [human.act(env.reset(seed=1)) for _ in range(1)] + [human.act(env.step(np.zeros(4))[0]) for _ in range(20)]
        human.reset(seed=None)
        b = [human.act(env.reset(seed=1)) for _ in range(1)] + [human.act(env.step(np.zeros(4))[0]) for _ in range(20)]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))


def test_human_proxy_is_slower_than_the_expert():
    _, expert_lengths = success_rate("pick_place", "red_cylinder", "expert", episodes=4)
    _, human_lengths = success_rate("pick_place", "red_cylinder", "human", episodes=6)
    assert human_lengths, "the human proxy never succeeded"
    assert np.median(human_lengths) >= 1.5 * np.median(expert_lengths)


def test_vga_tuned_controller_does_not_transfer_to_unseen_connectors():
    on_vga, _ = success_rate("insertion", "vga", "expert", 4, tuned_to="vga")
    on_xlr, _ = success_rate("insertion", "xlr", "expert", 4, tuned_to="vga")
    on_type_c, _ = success_rate("insertion", "type_c", "expert", 4, tuned_to="vga")
    assert on_vga >= 0.75 and on_xlr <= 0.25 and on_type_c <= 0.5


@pytest.mark.slow
@pytest.mark.parametrize("task,variant", ALL)
def test_expert_50_episodes_at_least_90_percent(task, variant):
    rate, _ = success_rate(task, variant, "expert", episodes=50)
    assert rate >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("task,variant", ALL)
def test_human_proxy_cycle_time_at_least_1_5x_over_50_episodes(task, variant):
    expert_rate, expert_lengths = success_rate(task, variant, "expert", 50)
    human_rate, human_lengths = success_rate(task, variant, "human", 50)
    assert human_rate < expert_rate and human_lengths
    assert np.median(human_lengths) >= 1.5 * np.median(expert_lengths)
