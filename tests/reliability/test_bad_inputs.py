"""Every bad input of the corpus (tests/data/make_bad_inputs.py) gives a clear error that names
file, episode and field, a non-zero exit, and no output dataset."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rldg_data.cli import main
from rldg_data.errors import ContractError, RldgError
from rldg_data.io.reader import read_episodes
from rldg_data.io.writer import write_dataset
from tests.data.make_bad_inputs import DATASET_CASES, bad_episodes_for_writer


def _assert_names(text: str, expected, shard_name=None) -> None:
    if shard_name:
        assert shard_name in text, text
    assert expected.episode in text, text
    if expected.field:
        assert f"field '{expected.field}'" in text, text
    if expected.step is not None:
        assert f"step {expected.step}" in text, text
    assert expected.words in text, text


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    return {case: make(root / case) for case, (make, _) in DATASET_CASES.items()}


@pytest.mark.parametrize("case", sorted(DATASET_CASES))
def test_validate_names_file_episode_field_and_exits_1(corpus, case, capsys):
    path = corpus[case]
    expected = DATASET_CASES[case][1]
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if l.startswith("  - ")]
    assert lines, out
    shard = next(path.glob("*.tfrecord-*")).name
    _assert_names(next((l for l in lines if expected.episode in l), lines[0]), expected, shard)


# Reading episode by episode does not check ids across episodes; validate and the writer do.
@pytest.mark.parametrize("case", sorted(set(DATASET_CASES) - {"duplicate_ids"}))
def test_reader_raises_naming_the_place(corpus, case):
    expected = DATASET_CASES[case][1]
    with pytest.raises(ContractError) as info:
        read_episodes(corpus[case])
    _assert_names(str(info.value), expected, "bad-train.tfrecord")


@pytest.mark.parametrize("case", ["nan_action", "flipped_bytes"])
def test_pack_refuses_bad_dataset_and_writes_no_archive(corpus, case, tmp_path, capsys):
    out = tmp_path / "shared.tar"
    assert main(["pack", str(corpus[case]), str(out)]) == 2
    err = capsys.readouterr().err
    assert "refusing to pack" in err and DATASET_CASES[case][1].episode in err
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("case", sorted(bad_episodes_for_writer()))
def test_writer_refuses_and_leaves_no_dataset(case, tmp_path):
    episodes, expected = bad_episodes_for_writer()[case]
    data_dir = tmp_path / "data"
    with pytest.raises(ContractError) as info:
        write_dataset(episodes, data_dir, "out")
    _assert_names(str(info.value), expected)
    leftovers = [p for p in data_dir.rglob("*") if p.is_file()] if data_dir.exists() else []
    assert leftovers == [] and not (data_dir / "out" / "1.0.0").exists()


def test_writer_failure_keeps_the_old_dataset(tmp_path):
    from tests.factories import make_episodes

    old = write_dataset(make_episodes(3), tmp_path, "out")
    before = sorted((p.name, p.stat().st_size) for p in old.iterdir())
    episodes, _ = bad_episodes_for_writer()["nan_action"]
    with pytest.raises(RldgError):
        write_dataset(episodes, tmp_path, "out", overwrite=True)
    assert sorted((p.name, p.stat().st_size) for p in old.iterdir()) == before
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["1.0.0"]


def test_console_exit_status_is_nonzero(corpus):
    exe = os.path.join(os.path.dirname(sys.executable), "rldg")
    res = subprocess.run([exe, "validate", str(corpus["truncated_shard"])], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 1 and "truncated" in res.stdout
