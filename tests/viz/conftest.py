"""A small mixed dataset for the viz tests: rl, human, scripted and an rl+intervention episode
with two stages, written once per session (it and the report of it are shared to keep the viz suite fast)."""

from __future__ import annotations

import numpy as np
import pytest

from rldg_data.contract import spec
from rldg_data.contract.episode import text_array
from tests.factories import make_episode, make_episodes


def intervention_episode(episode_id: str = "ep-int", length: int = 8, seed: int = 99):
    """RL acts for the first half (stage 0), a human intervenes for the rest (stage 1)."""
    episode = make_episode(episode_id, length=length, seed=seed, source="rl", image_size=32)
    half = length // 2
    sources = text_array(["rl"] * half + ["intervention"] * (length - half))
    stages = np.array([0] * half + [1] * (length - half), np.int32)
    return episode.replace({spec.SOURCE: sources, spec.STAGE: stages})


@pytest.fixture(scope="session")
def viz_episodes():
    return make_episodes(9, seed=3, image_size=32) + [intervention_episode()]


@pytest.fixture(scope="session")
def viz_dataset(tmp_path_factory, viz_episodes):
    """Path of the written dataset (JPEG frames, as the contract's default)."""
    from rldg_data.io.writer import write_dataset

    return write_dataset(viz_episodes, tmp_path_factory.mktemp("viz") / "data", "vizmix")


@pytest.fixture(scope="session")
def viz_view(viz_dataset):
    from viz.scan import collect_dataset_view

    return collect_dataset_view(viz_dataset, samples_per_source=1)


@pytest.fixture(scope="session")
def viz_report(viz_dataset, tmp_path_factory):
    """The full report (figures, sample episodes with MP4 and GIF, HTML) of viz_dataset."""
    from viz.report import ReportConfig, build_report

    return build_report(viz_dataset, tmp_path_factory.mktemp("report") / "out", ReportConfig(fps=5))


def assert_real_image(path, min_size: int = 32) -> np.ndarray:
    """The file exists, decodes as an image of at least min_size pixels a side, and is not blank
    (many distinct colours, not one flat fill). Returns its first frame as RGB."""
    from PIL import Image

    assert path.is_file() and path.stat().st_size > 0, f"{path} missing or empty"
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        pixels = np.asarray(img.convert("RGB"))
    assert min(pixels.shape[:2]) >= min_size, f"{path}: tiny image {pixels.shape}"
    assert pixels.std() > 5, f"{path}: blank image"
    packed = pixels.reshape(-1, 3).astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], np.uint32)
    assert len(np.unique(packed)) > 8, f"{path}: flat image"
    return pixels
