"""Teleop input mapping (no hardware here: the device readers raise UnavailableError)."""

from __future__ import annotations

import numpy as np
import pytest

import robot_io
from rldg_data.errors import UnavailableError
from robot_io.teleop import KeyboardMapping, SpaceMouseMapping, TeleopDemonstrator


def test_keyboard_keys_map_to_axes_and_space_toggles_gripper():
    m = KeyboardMapping()
    np.testing.assert_array_equal(m({"w", "a"}), [1, 1, 0, 1])
    np.testing.assert_array_equal(m({"s", "f", "space"}), [-1, 0, -1, -1])  # closes
    np.testing.assert_array_equal(m({"space"}), [0, 0, 0, -1])  # held: no second toggle
    np.testing.assert_array_equal(m(set()), [0, 0, 0, -1])
    np.testing.assert_array_equal(m({"space", "r"}), [0, 0, 1, 1])  # opens again
    np.testing.assert_array_equal(m({"w", "s"}), [0, 0, 0, 1])  # opposite keys cancel


def test_spacemouse_dead_zone_scaling_and_buttons():
    m = SpaceMouseMapping()
    a = m((10, -350, 700), [False, False])
    assert a[0] == 0 and a[1] == -1 and a[2] == 1 and a[3] == 1
    half = m((0.55 * 350, 0, 0), [True, False])
    assert np.isclose(half[0], 0.5) and half[3] == -1
    assert m((0, 0, 0), [False, True])[3] == 1


def test_teleop_drives_the_sim_through_the_demonstrator_interface():
    class Scripted:
        def read(self):
            return np.array([0, 0, 1, 1], np.float32)

    env = robot_io.make("insertion", "vga", render=False)
    demo = robot_io.make_demonstrator("teleop", env, device=Scripted())
    assert isinstance(demo, TeleopDemonstrator) and demo.source == "human"
    obs = env.reset(seed=0)
    z0 = obs["state"][2]
    for _ in range(10):  # the hand trails the mocap target by a few steps
        obs, *_ = env.step(demo.act(obs))
    env.close()
    assert obs["state"][2] > z0 + 0.02


def test_keyboard_without_backend_raises_unavailable():
    try:
        import pynput  # noqa: F401
        pytest.skip("pynput installed")
    except ImportError:
        pass
    with pytest.raises(UnavailableError, match="pynput"):
        robot_io.make_demonstrator("teleop", robot_io.make("insertion", "vga", render=False))
