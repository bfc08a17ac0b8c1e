"""builders/rldg_mix: a TFDS builder whose configs are recipes, built from its dummy data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILDER_DIR = ROOT / "builders" / "rldg_mix"


def _builder_class():
    sys.path.insert(0, str(BUILDER_DIR.parent))
    try:
        from rldg_mix.rldg_mix_dataset_builder import Builder
    finally:
        sys.path.remove(str(BUILDER_DIR.parent))
    return Builder


def test_builder_builds_the_dummy_recipe_into_a_loadable_dataset(tmp_path):
    import tensorflow_datasets as tfds

    from rldg_data.contract.validate import validate_dataset

    Builder = _builder_class()
    assert "dummy" in [c.name for c in Builder.BUILDER_CONFIGS]
    builder = Builder(config="dummy", data_dir=str(tmp_path))
    builder.download_and_prepare()
    folder = Path(builder.data_dir)
    assert validate_dataset(folder).ok
    assert (folder / "dataset_statistics.json").exists() and (folder / "README.md").exists()
    info = json.loads((folder / "rldg_info.json").read_text())
    loaded = tfds.builder_from_directory(str(folder))
    assert loaded.info.splits.total_num_examples == info["num_episodes"] > 0
    ids = sorted(i.decode() for split in loaded.info.splits
                 for i in loaded.as_dataset(split=split).map(
                     lambda ex: ex["episode_metadata"]["episode_id"]).as_numpy_iterator())
    assert ids == info["episode_ids"]


@pytest.mark.slow
def test_tfds_build_cli_with_two_beam_workers(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(BUILDER_DIR.parent), str(ROOT)]))
    tfds_cli = Path(sys.executable).with_name("tfds")
    subprocess.run([str(tfds_cli), "build", str(BUILDER_DIR), "--config", "dummy", "--data_dir", str(tmp_path),
                    "--beam_pipeline_options=direct_running_mode=multi_processing,direct_num_workers=2"],
                   check=True, env=env, cwd=tmp_path, timeout=600)
    folder = next(tmp_path.glob("rldg_mix/dummy/*"))
    assert (folder / "dataset_statistics.json").exists()
