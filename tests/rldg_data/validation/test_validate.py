"""`rldg validate`: summary, every violation with file/episode/field, exit status."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from rldg_data.contract import spec
from rldg_data.cli import main
from rldg_data.io.codec import encode_episode
from rldg_data.io.writer import DatasetWriter
from tests.factories import make_episode, make_episodes


def write_unchecked(tmp_path, records_or_eps, name="bad"):
    """A dataset written without validation, as a buggy third-party writer would."""
    eps = [e for e in records_or_eps if not isinstance(e, tuple)]
    w = DatasetWriter(tmp_path, name, eps[0].spec() if eps else make_episode().spec())
    for item in records_or_eps:
        if isinstance(item, tuple):
            eid, record, n = item
        else:
            eid, record, n = item.episode_id, encode_episode(item), len(item)
        w.add_serialized(eid, record, n)
    return w.commit()


def test_good_dataset_exits_0(tiny_dataset, capsys):
    path, eps = tiny_dataset
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "episodes  6" in out and "OK: no contract violations" in out
    assert "rl=" in out and "human=" in out and "insertion/vga=" in out and "success" in out


def test_nan_action_reported(tmp_path, capsys):
    eps = make_episodes(3)
    eps[1].steps[spec.ACTION][2, 1] = np.nan
    path = write_unchecked(tmp_path, eps)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if "NaN" in l)
    assert "bad-train.tfrecord-00000-of-00001" in line
    assert f"episode '{eps[1].episode_id}'" in line and "step 2" in line and "steps/action" in line


def test_missing_metadata_field_reported(tmp_path, capsys):
    from tensorflow.core.example import example_pb2

    ep = make_episode("no-success")
    ex = example_pb2.Example.FromString(encode_episode(ep))
    del ex.features.feature["episode_metadata/success"]
    path = write_unchecked(tmp_path, [make_episode("fine"), ("no-success", ex.SerializeToString(), len(ep))])
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if "missing metadata" in l)
    assert "tfrecord" in line and "'no-success'" in line and "episode_metadata/success" in line


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupted_shard_reported(tiny_dataset, tmp_path, capsys, damage):
    path, _ = tiny_dataset
    (shard,) = sorted(path.glob("*.tfrecord-*"))
    data = bytearray(shard.read_bytes())
    if damage == "truncate":
        data = data[: len(data) * 2 // 3]
    else:
        data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if "damaged" in l or "truncated" in l)
    assert shard.name in line and "episode" in line


def test_duplicate_ids_across_shards(tmp_path, capsys):
    eps = [make_episode("dup"), make_episode("dup", seed=4)]
    path = write_unchecked(tmp_path, eps)
    assert main(["validate", str(path)]) == 1
    assert "duplicate episode_id" in capsys.readouterr().out


def test_not_a_dataset_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "not a TFDS dataset folder" in capsys.readouterr().err


def test_console_script_and_help(tiny_dataset):
    path, _ = tiny_dataset
    exe = os.path.join(os.path.dirname(sys.executable), "rldg")
    res = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "validate" in res.stdout
    res = subprocess.run([exe, "validate", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "contract" in res.stdout and "Exit status" in res.stdout
    res = subprocess.run([exe, "validate", "--json", str(path)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert '"episodes": 6' in res.stdout
