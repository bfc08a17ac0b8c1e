"""Every variant constructs, resets and steps headless; the API other packages code against."""

from __future__ import annotations

import numpy as np
import pytest

import robot_io
from rldg_data.errors import RldgError

ALL = [(t, v) for t in robot_io.TASKS for v in robot_io.variants(t)]


def test_registry_has_seen_and_unseen_variants_for_every_task():
    assert robot_io.TASKS == ("insertion", "pick_place", "assembly")
    assert len(robot_io.variants("insertion")) >= 6
    for task in robot_io.TASKS:
        seen, unseen = robot_io.variants(task, "seen"), robot_io.variants(task, "unseen")
        assert seen and unseen and not set(seen) & set(unseen)
        assert sorted(seen + unseen) == sorted(robot_io.variants(task))
    assert "vga" in robot_io.variants("insertion", "seen")
    assert {"type_c", "displayport", "xlr"} <= set(robot_io.variants("insertion", "unseen"))


def test_unknown_names_raise_clear_errors():
    with pytest.raises(RldgError, match="unknown task"):
        robot_io.variants("juggling")
    with pytest.raises(RldgError, match="known: vga"):
        robot_io.make("insertion", "hdmi9")
    with pytest.raises(RldgError, match="split"):
        robot_io.variants("insertion", "train")


def test_variant_info_carries_split_and_instruction():
    info = robot_io.variant_info("insertion", "xlr")
    assert info.split == "unseen" and "XLR" in info.language_instruction
    instructions = {robot_io.variant_info(t, v).language_instruction for t, v in ALL}
    assert len(instructions) == len(ALL)  # one instruction per task variant


@pytest.mark.parametrize("task,variant", ALL)
def test_every_variant_resets_and_steps_headless(task, variant):
    # headless physics for every variant (images per variant: test_images_and_stages.py)
    with robot_io.make(task, variant, render=False, seed=0) as env:
        assert (env.task, env.variant) == (task, variant)
        assert env.state_dim == 4 and env.action_dim == 4 and env.privileged_dim == 17
        obs = env.reset(seed=1)
        assert "image" not in obs
        assert obs["state"].shape == (4,) and obs["state"].dtype == np.float32
        assert obs["privileged_state"].shape == (17,)
        start = obs["state"][:3].copy()
        for _ in range(10):
            obs, reward, terminated, truncated, info = env.step(np.array([1, 0, 0, 1], np.float32))
        assert set(info) == {"success", "stage"} and reward == 0.0 and not terminated
        assert obs["state"][0] > start[0] + 0.03  # +x action moved the hand
        assert 0 <= info["stage"] < env.num_stages


def test_resets_rerandomize_and_seeds_reproduce():
    env = robot_io.make("pick_place", "red_cylinder", render=False)
    a = env.reset(seed=3)["privileged_state"]
    b = env.reset(seed=4)["privileged_state"]
    c = env.reset(seed=3)["privileged_state"]
    unseeded = {tuple(np.round(env.reset()["privileged_state"][4:7], 4)) for _ in range(3)}
    env.close()
    assert not np.allclose(a[4:7], b[4:7]) and not np.allclose(a[11:14], b[11:14])
    np.testing.assert_array_equal(a, c)
    assert len(unseeded) == 3
    env2 = robot_io.make("pick_place", "red_cylinder", render=False)
    assert "image" not in env2.reset(seed=0)
    env2.close()


def test_gripper_sign_plus_one_opens():
    with robot_io.make("insertion", "vga", render=False) as env:
        env.reset(seed=0)
        for _ in range(15):
            obs, *_ = env.step([0, 0, 0, -1])
        closed = obs["state"][3]
        for _ in range(15):
            obs, *_ = env.step([0, 0, 0, 1])
        assert obs["state"][3] > closed + 0.3


def test_actions_are_clipped_to_unit_box():
    with robot_io.make("insertion", "vga", render=False) as env:
        env.reset(seed=0)
        x0 = env.state()[0]
        env.step([50, 0, 0, 1])
        big = env.state()[0] - x0
        env.reset(seed=0)
        env.step([1, 0, 0, 1])
        assert np.isclose(big, env.state()[0] - x0, atol=1e-6)


def test_wrist_camera_is_optional():
    with robot_io.make("pick_place", "blue_block", image_size=48, wrist=True) as env:
        obs = env.reset(seed=0)
        assert obs["wrist_image"].shape == (48, 48, 3)
        assert not np.array_equal(obs["wrist_image"], obs["image"])
