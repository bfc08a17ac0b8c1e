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

    from rldg_data.writer import write_dataset

    lossless = dataclasses.replace(episodes[0].spec(), image_encoding="png")
    path = write_dataset(episodes, tmp_path / "data", "tiny", lossless)
    return path, episodes
