"""`tfds build builders/lerobot_import` and `builders/rlds_import`: other formats in, contract out.

The LeRobot import is checked on our own export (contract -> LeRobot -> contract: every non-image
field exact, frames within codec tolerance, fps kept) and on broken folders (refused, naming file
and field, no dataset written). The RLDS import is checked on a dataset written by a plain TFDS
builder with OXE-style keys (tests/builders/oxe_toy.py), then mixed with rollouts by `rldg mix`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds

from builders.lerobot_import.lerobot_import_dataset_builder import Builder as LeRobotImport
from builders.lerobot_import.lerobot_import_dataset_builder import LeRobotImportConfig
from builders.rlds_import.rlds_import_dataset_builder import Builder as RldsImport
from builders.rlds_import.rlds_import_dataset_builder import RldsImportConfig
from rldg_data.contract import spec
from rldg_data.errors import ContractError
from rldg_data.exports.lerobot import ExportConfig, export_lerobot
from rldg_data.io.reader import read_episodes
from rldg_data.validation.validate import validate_dataset
from rldg_data.io.writer import write_dataset
from tests.builders import oxe_toy
from tests.builders.test_user_errors import error_lines
from tests.factories import make_episode

REPO = Path(__file__).resolve().parents[2]
TFDS = str(Path(sys.executable).parent / "tfds")


def _tfds(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([TFDS, "build", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


@pytest.fixture(scope="module")
def lerobot_export(tmp_path_factory):
    root = tmp_path_factory.mktemp("lr")
    eps = [make_episode(f"ep-{i}", length=8 + i, image_size=32, seed=i, source=("rl", "human")[i % 2],
                        success=bool(i % 2)).replace(recipe_hash="r1", seed=50 + i) for i in range(5)]
    data_spec = dataclasses.replace(eps[0].spec(), image_encoding="png")
    src = write_dataset({"train": eps[:4], "val": eps[4:]}, root / "src", "toy", data_spec)
    out = root / "toy_lerobot"
    export_lerobot(src, out, ExportConfig(fps=15))
    return src, out


def test_lerobot_round_trip_through_tfds_build(lerobot_export, tmp_path):
    src, out = lerobot_export
    res = _tfds("builders/lerobot_import", "--data_dir", str(tmp_path), "--manual_dir", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    built = tmp_path / "lerobot_import" / "default" / "1.0.0"
    assert validate_dataset(built).ok
    assert json.loads((built / "metadata.json").read_text())["fps"] == 15
    original = {e.episode_id: e for e in read_episodes(src)}
    back = {e.episode_id: e for e in read_episodes(built)}
    assert set(back) == set(original)
    assert [e.episode_id for e in read_episodes(built, "val")] == ["ep-4"]
    scores = []
    for eid, episode in back.items():
        assert episode.metadata == original[eid].metadata
        for name, values in original[eid].steps.items():
            if name in spec.IMAGE_FIELDS:  # video (h264, CRF 30), then the import's JPEG
                scores += [_psnr(a, b) for a, b in zip(episode.steps[name], values)]
            else:
                np.testing.assert_array_equal(episode.steps[name], values, err_msg=name)
    print(f"contract -> LeRobot -> contract PSNR: mean {np.mean(scores):.1f} dB, min {np.min(scores):.1f} dB")
    assert np.mean(scores) >= 30 and np.min(scores) >= 25
    # exported again, the import keeps its fps (from metadata.json)
    again = tmp_path / "again"
    export_lerobot(built, again)
    assert json.loads((again / "meta/info.json").read_text())["fps"] == 15


def _build_lerobot(root, data_dir, mapping=None):
    builder = LeRobotImport(config=LeRobotImportConfig(name="t", mapping=mapping), data_dir=str(data_dir))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    return builder


@pytest.mark.parametrize("damage", ["missing_video", "timestamp", "version"])
def test_broken_lerobot_folder_builds_nothing(lerobot_export, tmp_path, damage):
    import pyarrow as pa
    import pyarrow.parquet as pq

    broken = tmp_path / "broken"
    shutil.copytree(lerobot_export[1], broken)
    if damage == "missing_video":
        target = broken / "videos/observation.images.image/chunk-000/file-000.mp4"
        target.unlink()
        words = [str(target), "observation.images.image"]
    elif damage == "timestamp":
        target = broken / "data/chunk-000/file-000.parquet"
        table = pq.read_table(target)
        ts = table.column("timestamp").to_numpy().copy()
        ts[-1] += 0.5 / 15
        pq.write_table(table.set_column(table.schema.get_field_index("timestamp"), "timestamp",
                                        pa.array(ts, pa.float32())), target)
        words = [str(target), "'timestamp'", "episode_index 4"]
    else:
        target = broken / "meta/info.json"
        info = json.loads(target.read_text())
        info["codebase_version"] = "v2.1"
        target.write_text(json.dumps(info))
        words = [str(target), "'codebase_version'"]
    data_dir = tmp_path / "data"
    with pytest.raises(ContractError) as err:
        _build_lerobot(broken, data_dir)
    for word in words:
        assert word in str(err.value)
    leftovers = [p for p in data_dir.rglob("*") if p.is_file() and "tfrecord" in p.name]
    assert not leftovers and not (data_dir / "lerobot_import" / "t" / "1.0.0").exists()


@pytest.fixture(scope="module")
def oxe(tmp_path_factory):
    return oxe_toy.build(tmp_path_factory.mktemp("oxe"))


MAPPING = """\
dataset: {dataset}
image: steps/observation/rgb
state: steps/observation/joint_pos
action: {{key: steps/action, dims: [0, 1, 2, 6], low: [-2, -2, -2, -2, -2, -2, 0], high: [2, 2, 2, 2, 2, 2, 1]}}
language_instruction: episode_metadata/instruction
episode_id: episode_metadata/file_path
task: pick_place
variant: block
"""


def test_rlds_import_mixes_with_rollouts(oxe, tmp_path, capsys):
    mapping = tmp_path / "oxe.yaml"
    mapping.write_text(MAPPING.format(dataset=oxe))
    config = json.dumps({"name": "oxe_toy", "mapping": str(mapping)})
    res = _tfds("builders/rlds_import", "--data_dir", str(tmp_path), "--config", config)
    assert res.returncode == 0, res.stderr[-3000:]
    built = tmp_path / "rlds_import" / "oxe_toy" / "1.0.0"
    assert validate_dataset(built).ok
    episodes = read_episodes(built)
    assert len(episodes) == oxe_toy.OxeToy.NUM_EPISODES
    first = next(e for e in episodes if e.episode_id == "/raw/episode_0.h5")
    assert set(first.steps[spec.SOURCE]) == {"human"}
    assert first.steps[spec.LANGUAGE_INSTRUCTION][0] == "pick block 0"
    assert first.metadata.task == "pick_place" and first.metadata.success
    assert first.steps[spec.ACTION].shape == (6, 4)
    assert first.steps[spec.IMAGE].shape == (6, oxe_toy.SIZE, oxe_toy.SIZE, 3)
    assert np.abs(first.steps[spec.IMAGE][3].astype(int) - 30).max() <= 2  # JPEG of a flat frame
    rng = np.random.default_rng(0)
    raw = rng.uniform(-2, 2, (6, 7))
    raw[:, 6] = rng.uniform(0, 1, 6)
    expected = np.concatenate([raw[:, :3] / 2, raw[:, 6:] * 2 - 1], axis=1)
    np.testing.assert_allclose(first.steps[spec.ACTION], expected, atol=1e-6)

    # mixed with rollouts of the same sizes by `rldg mix`
    rollouts = [make_episode(f"rl-{i}", length=7, image_size=oxe_toy.SIZE, state_dim=7, seed=i, source="rl",
                             task="pick_place", variant="block") for i in range(6)]
    write_dataset(rollouts, tmp_path, "rollouts")
    recipe = tmp_path / "mix.yaml"
    recipe.write_text(f"name: oxe_mix\nseed: 0\nval_fraction: 0.0\nsources:\n"
                      f"  rl: {{path: {tmp_path / 'rollouts'}, weight: 0.5}}\n"
                      f"  human: {{path: {tmp_path / 'rlds_import' / 'oxe_toy'}, weight: 0.5}}\n")
    from rldg_data.cli import main

    assert main(["mix", str(recipe), "--data-dir", str(tmp_path / "mixes")]) == 0
    mixed = read_episodes(tmp_path / "mixes" / "oxe_mix")
    sources = {str(e.steps[spec.SOURCE][0]) for e in mixed}
    assert sources == {"rl", "human"}
    assert {e.episode_id for e in mixed} & {"/raw/episode_0.h5", "rl-0"} or len(mixed) >= 2


def test_rlds_mapping_naming_a_missing_key_builds_nothing(oxe, tmp_path):
    mapping = tmp_path / "oxe.yaml"
    mapping.write_text(MAPPING.format(dataset=oxe).replace("steps/observation/joint_pos", "steps/observation/state"))
    data_dir = tmp_path / "data"
    with pytest.raises(ContractError) as err:
        builder = RldsImport(config=RldsImportConfig(name="bad", mapping=str(mapping)), data_dir=str(data_dir))
        builder.download_and_prepare()
    message = str(err.value)
    assert str(mapping) in message and "'state'" in message and "steps/observation/state" in message
    assert "steps/observation/joint_pos" in message  # the fields there are
    assert not (data_dir / "rlds_import" / "bad" / "1.0.0").exists()
    res = _tfds("builders/rlds_import", "--data_dir", str(data_dir), "--config",
                json.dumps({"name": "bad", "mapping": str(mapping)}))
    assert res.returncode != 0 and "steps/observation/state" in res.stderr
    lines = error_lines(res)  # one line, no absl traceback
    assert len(lines) == 1 and "Traceback" not in res.stderr and str(mapping) in lines[0], res.stderr[-3000:]
    assert not (data_dir / "rlds_import" / "bad" / "1.0.0").exists()
