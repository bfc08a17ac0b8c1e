"""`rldg stats --split val` never overwrites the statistics loaders normalize with, and a stale
`dataset_statistics.json` is noticed by `rldg validate` and `rldg pack` as `rldg show` notices it."""

from __future__ import annotations

import json

import pytest

from rldg_data.cli import main
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes


@pytest.fixture
def two_splits(tmp_path):
    episodes = make_episodes(6, seed=4)
    path = write_dataset({"train": episodes[:4], "val": episodes[4:]}, tmp_path / "data", "split2")
    assert main(["stats", str(path)]) == 0
    return path


def test_stats_of_val_go_to_their_own_file(two_splits, capsys):
    main_file = two_splits / "dataset_statistics.json"
    before = main_file.read_bytes()
    capsys.readouterr()
    assert main(["stats", str(two_splits), "--split", "val"]) == 0
    out = capsys.readouterr().out
    assert "dataset_statistics_val.json" in out and "left as it was" in out
    assert main_file.read_bytes() == before
    val = json.loads((two_splits / "dataset_statistics_val.json").read_text())
    assert val["num_trajectories"] == 2 and json.loads(before)["num_trajectories"] == 4
    assert main(["stats", str(two_splits), "--split", "train"]) == 0  # the default split: the main file
    assert main_file.read_bytes() == before


def test_validate_and_pack_notice_stale_statistics(two_splits, tmp_path, capsys):
    assert main(["validate", str(two_splits)]) == 0
    stale = two_splits / "dataset_statistics.json"
    data = json.loads(stale.read_text())
    data["action"]["mean"] = [m + 0.5 for m in data["action"]["mean"]]  # e.g. written for other data
    stale.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["validate", str(two_splits)]) == 1
    assert "dataset_statistics.json holds other numbers" in capsys.readouterr().out
    assert main(["pack", str(two_splits.parent), str(tmp_path / "x.tar")]) == 2
    assert "stale" in capsys.readouterr().err and not (tmp_path / "x.tar").exists()
