"""`rldg stats` says which split its counts describe (issue 33: train-split counts were printed
as if they were the dataset's)."""

from __future__ import annotations

from rldg_data.cli import main
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode


def test_stats_names_the_split_it_counted(tmp_path, capsys):
    eps = [make_episode(f"ep-{i}", length=5, seed=i) for i in range(3)]
    path = write_dataset({"train": eps[:2], "val": eps[2:]}, tmp_path, "two_splits")
    assert main(["stats", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 episodes, 10 steps, 8 transitions" in out and "split 'train' (of train, val; --split to choose)" in out
    assert main(["stats", str(path), "--split", "val", "--out", str(tmp_path / "s.json")]) == 0
    assert "of split 'val'" in capsys.readouterr().out
    one = write_dataset({"val": eps[:1]}, tmp_path, "val_only")
    assert main(["stats", str(one)]) == 0
    assert "all splits (val)" in capsys.readouterr().out
