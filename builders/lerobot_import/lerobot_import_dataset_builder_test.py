"""The builder on dummy_data/ (a LeRobot v3.0 folder of 3 episodes, 2 train + 1 val, h264 video;
written by make_dummy_data.py) with TFDS's own `DatasetBuilderTestCase`, as `tfds new` lays a
builder out. Run: pytest builders/lerobot_import/lerobot_import_dataset_builder_test.py
"""

from __future__ import annotations

import tensorflow_datasets as tfds

from builders.lerobot_import.lerobot_import_dataset_builder import Builder


class LeRobotImportTest(tfds.testing.DatasetBuilderTestCase):
    """TFDS's checks: registered, info, builds dummy_data/ (as --manual_dir), split sizes, reload."""

    DATASET_CLASS = Builder
    SPLITS = {"train": 2, "val": 1}
