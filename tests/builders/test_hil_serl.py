"""`tfds build builders/hil_serl` as a user runs it: refuses untrusted pickles, builds what `rldg import` builds.

The pickles are written here (HIL-SERL's layout, `tests/rldg_data/imports/test_hil_serl.py`); the build
runs the `tfds` command line in a subprocess, as README.md tells a user to.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

from rldg_data.imports.hil_serl import TRUST_MARKER, ImportOptions, import_hil_serl
from rldg_data.io.reader import read_episodes
from tests.rldg_data.imports.test_hil_serl import hil_serl_transitions, write_pickle

REPO = Path(__file__).resolve().parents[2]
TFDS = str(Path(sys.executable).parent / "tfds")


class _TouchesAFile:
    """Unpickling this creates a file: the test's witness that nothing was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def _tfds_build(data_dir: Path, manual_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([TFDS, "build", "builders/hil_serl", "--data_dir", str(data_dir),
                           "--manual_dir", str(manual_dir), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_untrusted_folder_is_refused_before_anything_is_unpickled(tmp_path):
    pickles = tmp_path / "pickles"
    pickles.mkdir()
    witness = tmp_path / "unpickled"
    with open(pickles / "buffer.pkl", "wb") as f:
        pickle.dump([_TouchesAFile(witness)], f)
    res = _tfds_build(tmp_path / "data", pickles)
    assert res.returncode != 0
    assert "refusing to unpickle" in res.stderr and TRUST_MARKER in res.stderr, res.stderr[-2000:]
    assert not witness.exists()
    assert not list((tmp_path / "data").rglob("*.tfrecord*"))


def test_build_equals_rldg_import(tmp_path):
    pickles = tmp_path / "pickles"
    pickles.mkdir()
    write_pickle(pickles / "demos.pkl", hil_serl_transitions([3, 4], seed=1))
    write_pickle(pickles / "buffer.pkl", hil_serl_transitions([5], intervene_at=(2,), seed=2))
    (pickles / TRUST_MARKER).touch()
    res = _tfds_build(tmp_path / "data", pickles, "--config", '{"name": "demos", "source": "human"}')
    assert res.returncode == 0, res.stderr[-3000:]
    built = {e.episode_id: e for e in read_episodes(tmp_path / "data" / "hil_serl" / "demos" / "1.0.0")}

    paths = sorted(pickles.glob("*.pkl"))
    imported = import_hil_serl(paths, tmp_path / "imported", ImportOptions(source="human"), trust_pickle=True)
    expected = {e.episode_id: e for e in read_episodes(imported)}
    assert sorted(built) == sorted(expected) and len(built) == 3
    for episode_id, episode in expected.items():
        other = built[episode_id]
        np.testing.assert_array_equal(other.actions, episode.actions)
        assert list(other.sources) == list(episode.sources)
        assert other.metadata == episode.metadata
    assert "intervention" in {s for e in built.values() for s in e.sources}


def test_the_same_pickle_twice_is_refused_naming_both_places(tmp_path):
    """The builder base refuses a repeated episode id, naming both files; nothing is built."""
    import shutil

    import pytest
    import tensorflow_datasets as tfds

    from builders.hil_serl.hil_serl_dataset_builder import Builder
    from rldg_data.errors import ContractError

    pickles = tmp_path / "pickles"
    shutil.copytree(REPO / "builders" / "hil_serl" / "dummy_data", pickles)
    (pickles / "copy").mkdir()
    shutil.copy(pickles / "demos.pkl", pickles / "copy" / "demos.pkl")
    builder = Builder(data_dir=str(tmp_path / "data"))
    with pytest.raises(ContractError, match="duplicate episode_id") as err:
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(pickles)))
    assert str(pickles / "demos.pkl") in str(err.value) and str(pickles / "copy" / "demos.pkl") in str(err.value)
    assert not list((tmp_path / "data").rglob("*.tfrecord*"))
