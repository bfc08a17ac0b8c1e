"""`rldg ls DATA_DIR` (issue 33): every dataset in a data folder with its version, config, episode
counts per split and what built it; temporaries of interrupted builds are not listed."""

from __future__ import annotations

import json

from rldg_data.cli import main
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode


def test_ls_lists_each_dataset_of_a_data_folder(tmp_path, capsys):
    data = tmp_path / "data"
    rl = [make_episode(f"rl-{i}", length=4, seed=i, source="rl") for i in range(3)]
    human = [make_episode(f"h-{i}", length=5, seed=i, source="human") for i in range(2)]
    write_dataset({"train": rl[:2], "val": rl[2:]}, data / "rl" / "rldg_rollouts", "default")
    write_dataset(human, data, "human_demos")
    (data / "rl" / "rldg_rollouts" / "incomplete.ABC_1.0.0").mkdir()  # a killed tfds build
    (data / "notes").mkdir()
    assert main(["ls", str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["path", "name", "config", "version", "episodes"]
    rows = {l.split()[0]: l for l in lines[1:]}
    assert set(rows) == {"rl/rldg_rollouts/default/1.0.0", "human_demos/1.0.0"}
    assert "3 (train=2, val=1)" in rows["rl/rldg_rollouts/default/1.0.0"]
    assert "2 (train=2)" in rows["human_demos/1.0.0"]
    assert "rldg" in rows["human_demos/1.0.0"]
    assert main(["ls", str(data), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {d["total_episodes"] for d in listed} == {3, 2}


def test_ls_of_an_empty_folder_says_so(tmp_path, capsys):
    assert main(["ls", str(tmp_path)]) == 0
    assert "no datasets under" in capsys.readouterr().out
    assert main(["ls", str(tmp_path / "missing")]) == 2
