"""The builder on dummy_data/: three toy-task episode logs (two human-proxy episodes, one
human -> rl hand-off), as `tfds new` lays a builder out. Plain TFDS calls instead of
`tfds.testing.DatasetBuilderTestCase`, which needs `dill` (not a dependency of this project).
Regenerate dummy_data with collectors (tests/builders/test_rldg_rollouts.py shows how) if the log
format changes. Run: pytest builders/rldg_rollouts/rldg_rollouts_dataset_builder_test.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from builders.rldg_rollouts.rldg_rollouts_dataset_builder import Builder

DUMMY_DATA = Path(__file__).resolve().parent / "dummy_data"


def build_dummy(data_dir) -> tfds.core.DatasetBuilder:
    builder = Builder(data_dir=str(data_dir))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(DUMMY_DATA)))
    return builder


def test_dummy_data_builds_three_episodes(tmp_path):
    builder = build_dummy(tmp_path)
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
