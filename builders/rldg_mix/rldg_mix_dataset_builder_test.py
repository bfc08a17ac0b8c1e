"""The builder's bundled `dummy` recipe (recipes/dummy.yaml: 12 RL + 10 human-proxy episodes in
dummy_data/, weights 0.5/0.5, 20% val) with TFDS's own `DatasetBuilderTestCase`, as `tfds new`
lays a builder out. Run: pytest builders/rldg_mix/rldg_mix_dataset_builder_test.py
"""

from __future__ import annotations

import tensorflow_datasets as tfds

from builders.rldg_mix.rldg_mix_dataset_builder import Builder


class RldgMixTest(tfds.testing.DatasetBuilderTestCase):
    """TFDS's checks: registered, info, builds the dummy recipe, split sizes, reload."""

    DATASET_CLASS = Builder
    SPLITS = {"train": 16, "val": 4}
    # TFDS forbids `os`/`open` in a builder module (gfile portability to cloud buckets); the mix
    # reads local recipe files (os.environ, os.sep) and its pipeline writes local shards.
    MOCK_OUT_FORBIDDEN_OS_FUNCTIONS = False
