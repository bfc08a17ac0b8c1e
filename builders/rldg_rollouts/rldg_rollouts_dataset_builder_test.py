"""The builder on dummy_data/ (three toy-task episode logs: two human-proxy episodes, one human ->
rl hand-off), with TFDS's own `DatasetBuilderTestCase`, as `tfds new` lays a builder out.
Regenerate dummy_data with collectors (tests/builders/test_rldg_rollouts.py shows how) if the log
format changes. Run: pytest builders/rldg_rollouts/rldg_rollouts_dataset_builder_test.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from builders.rldg_rollouts.rldg_rollouts_dataset_builder import Builder

DUMMY_DATA = Path(__file__).resolve().parent / "dummy_data"


class RldgRolloutsTest(tfds.testing.DatasetBuilderTestCase):
    """TFDS's checks: registered, info, builds dummy_data/ (as --manual_dir), split sizes, reload."""

    DATASET_CLASS = Builder
    SPLITS = {"train": 3}
    # TFDS forbids `os`/`open` in a builder module (gfile portability to cloud buckets); the builder
    # reads local log folders through collectors and reads RLDG_SKIP_DAMAGED_LOGS from os.environ.
    MOCK_OUT_FORBIDDEN_OS_FUNCTIONS = False


def test_dummy_data_builds_three_episodes(tmp_path):
    builder = Builder(data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(DUMMY_DATA)))
    assert builder.info.splits["train"].num_examples == 3
    assert builder.info.features["steps"]["observation"]["image"].shape == (8, 8, 3)
    sources = set()
    for episode in tfds.as_numpy(builder.as_dataset(split="train")):
        steps = list(episode["steps"])
        assert len(steps) == episode["episode_metadata"]["length"]
        assert steps[0]["is_first"] and steps[-1]["is_last"]
        assert np.all(steps[-1]["action"] == 0)
        sources |= {s["source"].decode() for s in steps}
    assert sources == {"human", "rl"}
