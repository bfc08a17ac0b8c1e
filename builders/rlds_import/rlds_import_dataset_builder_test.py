"""The builder on dummy_data/ (an OXE-style RLDS dataset of 5 episodes and the mapping.yaml that
imports it; written by make_dummy_data.py) with TFDS's own `DatasetBuilderTestCase`, as `tfds new`
lays a builder out. Run: pytest builders/rlds_import/rlds_import_dataset_builder_test.py
"""

from __future__ import annotations

import tensorflow_datasets as tfds

from builders.rlds_import.rlds_import_dataset_builder import Builder


class RldsImportTest(tfds.testing.DatasetBuilderTestCase):
    """TFDS's checks: registered, info, builds dummy_data/ (as --manual_dir), split sizes, reload."""

    DATASET_CLASS = Builder
    SPLITS = {"train": 5}
