"""The builder on dummy_data/ (two HIL-SERL pickles, 3 episodes, one intervention; written by
make_dummy_data.py) with TFDS's own `DatasetBuilderTestCase`, as `tfds new` lays a builder out.
Run: pytest builders/hil_serl/hil_serl_dataset_builder_test.py
"""

from __future__ import annotations

import tensorflow_datasets as tfds

from builders.hil_serl.hil_serl_dataset_builder import Builder


class HilSerlTest(tfds.testing.DatasetBuilderTestCase):
    """TFDS's checks: registered, info, builds dummy_data/ (as --manual_dir), split sizes, reload."""

    DATASET_CLASS = Builder
    SPLITS = {"train": 3}
