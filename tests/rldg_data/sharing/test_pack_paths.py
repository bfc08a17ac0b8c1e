"""`rldg pack` takes every path `rldg validate` and `rldg show` take (issue 33): a version folder,
a config folder, and a TFDS builder folder with one config (`data/rl/rldg_rollouts`)."""

from __future__ import annotations

import tarfile

import pytest

from rldg_data.cli import main
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode


@pytest.fixture
def builder_folder(tmp_path):
    """data/rl/rldg_rollouts/default/1.0.0, as `tfds build builders/rldg_rollouts --data_dir data/rl` lays it out."""
    episodes = [make_episode(f"ep-{i}", length=4, seed=i, source="rl") for i in range(2)]
    write_dataset(episodes, tmp_path / "data" / "rl" / "rldg_rollouts", "default")
    return tmp_path / "data" / "rl" / "rldg_rollouts"


@pytest.mark.parametrize("level", ["builder", "config", "version"])
def test_pack_accepts_what_validate_accepts(builder_folder, tmp_path, level, capsys):
    path = {"builder": builder_folder, "config": builder_folder / "default",
            "version": builder_folder / "default" / "1.0.0"}[level]
    assert main(["validate", str(path)]) == 0
    out = tmp_path / "x.tar"
    assert main(["pack", str(path), str(out)]) == 0, capsys.readouterr().err
    with tarfile.open(out) as tar:
        assert "1.0.0/dataset_info.json" in tar.getnames()
    dest = tmp_path / "got"
    assert main(["unpack", str(out), str(dest)]) == 0
    assert main(["verify", str(dest)]) == 0


def test_pack_of_a_folder_that_is_no_dataset_says_so(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["pack", str(tmp_path / "empty"), str(tmp_path / "x.tar")]) != 0
    err = capsys.readouterr().err
    assert "is not a TFDS dataset folder" in err and "broken" not in err
