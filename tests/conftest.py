"""Shared fixtures: tiny contract datasets made in tmp_path, nothing outside the repo."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import pytest

from tests.factories import make_episode, make_episodes  # noqa: E402,F401


@pytest.fixture
def episodes():
    """Six small valid episodes of mixed sources, variants and outcomes (64x64 images)."""
    return make_episodes(6, seed=0)


@pytest.fixture
def tiny_dataset(tmp_path, episodes):
    """A written contract dataset (PNG images) and the episodes it holds."""
    import dataclasses

    from rldg_data.io.writer import write_dataset

    lossless = dataclasses.replace(episodes[0].spec(), image_encoding="png")
    path = write_dataset(episodes, tmp_path / "data", "tiny", lossless)
    return path, episodes


def pytest_collection_modifyitems(config, items):
    """Refuses to render in a process that has imported TensorFlow (it would segfault, not fail).

    MuJoCo's EGL renderer and TensorFlow both bundle LLVM; once TensorFlow is loaded, creating a
    renderer crashes the interpreter. tests/robot_io renders in-process, so it runs in a pytest
    process of its own (`make test` runs it first, then the rest with --ignore=tests/robot_io).
    """
    import sys

    rendering = [i for i in items if "tests/robot_io/" in str(i.path).replace(os.sep, "/")]
    if rendering and "tensorflow" in sys.modules:
        raise pytest.UsageError(
            "tests/robot_io renders with MuJoCo's EGL backend, which segfaults once TensorFlow is "
            "imported (the other test modules import it): run `pytest tests/robot_io` and "
            "`pytest tests --ignore=tests/robot_io` separately, as `make test` does")
