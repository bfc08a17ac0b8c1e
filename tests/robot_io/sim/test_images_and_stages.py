"""Rendered images are upright and show the object; assembly stages and hand-off starts."""

from __future__ import annotations

import numpy as np

import robot_io


def colour_mask(image, rgb, tol=60):
    diff = np.abs(image.astype(int) - (np.array(rgb) * 255).astype(int)).sum(-1)
    return diff < tol


def test_object_colour_visible_and_image_upright():
    env = robot_io.make("pick_place", "red_cylinder", image_size=64)
    expert = robot_io.make_demonstrator("expert", env)
    obs = env.reset(seed=0)
    rows0 = np.nonzero(colour_mask(obs["image"], (0.9, 0.1, 0.1)))[0]
    assert rows0.size >= 4, "the red object is not in the frame"
    # carry it up: lifted objects must move *up* in an upright image
    for _ in range(200):
        obs, _, terminated, _, _ = env.step(expert.act(obs))
        if obs["privileged_state"][6] > 0.2 or terminated:
            break
    assert obs["privileged_state"][6] > 0.1
    rows1 = np.nonzero(colour_mask(obs["image"], (0.9, 0.1, 0.1)))[0]
    env.close()
    assert rows1.size >= 4 and rows1.mean() < rows0.mean() - 3


def test_unseen_background_differs_in_pixels():
    a = robot_io.make("pick_place", "red_cylinder", image_size=64)
    b = robot_io.make("pick_place", "yellow_cube_dark_table", image_size=64)
    ia, ib = a.reset(seed=0)["image"], b.reset(seed=0)["image"]
    a.close(), b.close()
    assert np.abs(ia.astype(int) - ib.astype(int)).mean() > 20
    assert colour_mask(ib, (0.95, 0.85, 0.1)).sum() >= 4


def test_each_connector_is_visible():
    for variant in robot_io.variants("insertion"):
        with robot_io.make("insertion", variant, image_size=64) as env:
            rgba = robot_io.variant_info("insertion", variant).params["rgba"]
            img = env.reset(seed=0)["image"]
            lit = env.render(size=64)  # same frame twice: rendering is deterministic
            np.testing.assert_array_equal(img, lit)
            assert colour_mask(img, rgba[:3], tol=120).sum() >= 3, variant


def test_assembly_reports_stages_in_order_and_starts_at_handoff():
    env = robot_io.make("assembly", "round_nut", render=False)
    expert = robot_io.make_demonstrator("expert", env)
    obs = env.reset(seed=0)
    stages = []
    for _ in range(env.max_episode_steps):
        obs, _, terminated, truncated, info = env.step(expert.act(obs))
        stages.append(info["stage"])
        if terminated or truncated:
            break
    assert info["success"] and stages[0] == 0 and stages[-1] == 2
    assert all(b >= a for a, b in zip(stages, stages[1:])) and set(stages) == {0, 1, 2}
    assert env.bottleneck_stage == 2 and env.num_stages == 3

    obs = env.reset(seed=0, start_stage=2)
    assert env.stage == 2 and env.elapsed_steps == 0
    ring, top = obs["privileged_state"][14:17], obs["privileged_state"][11:14]
    assert np.linalg.norm(ring[:2] - top[:2]) < 0.02 and ring[2] > top[2]
    expert.reset()
    # a fresh expert from the hand-off state finishes the insert quickly
    for n in range(100):
        obs, _, terminated, _, info = env.step(expert.act(obs))
        if terminated:
            break
    env.close()
    assert info["success"] and n < 60


def test_assembly_stages_latch_for_the_human_proxys_off_centre_grasps():
    """Every successful human-proxy episode passes through grasped (1) and transported (2) before it
    succeeds: a grasp a few cm off the handle's centre still holds the nut off the table (issue 29:
    with a 3 cm test, seed 30001 lifted and inserted the nut with the stage stuck at 0, so a
    human-first hand-off never handed over to the specialist)."""
    env = robot_io.make("assembly", "round_nut", render=False)
    human = robot_io.make_demonstrator("human", env, seed=0)
    successes = 0
    for seed in (30000, 30001, 30002, 30003):
        obs = env.reset(seed=seed)
        human.reset(seed)
        stages = []
        for _ in range(env.max_episode_steps):
            obs, _, terminated, truncated, info = env.step(human.act(obs))
            stages.append(info["stage"])
            if terminated or truncated:
                break
        if info["success"]:
            successes += 1
            assert {1, 2} <= set(stages), (seed, sorted(set(stages)))
    env.close()
    assert successes >= 2
