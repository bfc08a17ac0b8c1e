"""A build from other inputs into the same --data_dir is refused, never a silent reuse of the old
dataset (issue 32): the import builders (lerobot_import, rlds_import, hil_serl) as rldg_rollouts,
and `tfds build builders/rldg_mix --config my_mix.yaml` with a changed recipe of the same name,
naming what changed. The same inputs again are reused; `--overwrite` rebuilds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import tensorflow_datasets as tfds

from rldg_data.errors import DatasetError
from rldg_data.io.tfds_build import INPUTS_FILE
from tests.builders.test_user_errors import BUILDERS, error_lines, tfds_build


def _build(builder_cls, data_dir, manual_dir=None, overwrite=False, **config):
    config_cls = builder_cls.BUILDER_CONFIG_CLS
    builder = builder_cls(config=config_cls(name="custom", **config), data_dir=str(data_dir))
    mode = tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS
    if overwrite:
        mode = tfds.download.GenerateMode.FORCE_REDOWNLOAD
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(manual_dir) if manual_dir else None, download_mode=mode))
    return builder


def _shards(builder) -> list[tuple[str, bytes]]:
    return sorted((p.name, p.read_bytes()) for p in Path(builder.data_dir).glob("*.tfrecord*"))


def _hil_serl_other(tmp_path: Path) -> Path:
    other = tmp_path / "other"
    shutil.copytree(BUILDERS / "hil_serl" / "dummy_data", other)
    (other / "buffer.pkl").unlink()
    return other


def _rlds_other(tmp_path: Path) -> Path:
    other = tmp_path / "other"
    other.mkdir()
    text = (BUILDERS / "rlds_import" / "dummy_data" / "mapping.yaml").read_text()
    dataset = BUILDERS / "rlds_import" / "dummy_data" / "oxe_toy" / "0.1.0"
    (other / "mapping.yaml").write_text(text.replace("dataset: oxe_toy/0.1.0", f"dataset: {dataset}")
                                        .replace("variant: block", "variant: cube"))
    return other


@pytest.mark.parametrize("name", ["hil_serl", "rlds_import", "lerobot_import"])
def test_import_builder_refuses_other_inputs_in_the_same_data_dir(name, tmp_path):
    import importlib

    builder_cls = importlib.import_module(f"builders.{name}.{name}_dataset_builder").Builder
    dummy = BUILDERS / name / "dummy_data"
    first = _build(builder_cls, tmp_path / "data", dummy)
    record = json.loads((Path(first.data_dir) / INPUTS_FILE).read_text())
    assert record["fingerprint"] and record["description"]
    before = _shards(first)
    if name == "hil_serl":
        other, config = _hil_serl_other(tmp_path), {}
    elif name == "rlds_import":
        other, config = _rlds_other(tmp_path), {}
    else:  # the same folder through a mapping that crops the frames smaller
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text("image_size: 8\n")
        other, config = dummy, {"mapping": str(mapping)}
    with pytest.raises(DatasetError, match="was built from other inputs") as err:
        _build(builder_cls, tmp_path / "data", other, **config)
    assert "--overwrite" in str(err.value)
    assert _shards(first) == before  # the old dataset untouched
    _build(builder_cls, tmp_path / "data", dummy)  # the same inputs: reused
    rebuilt = _build(builder_cls, tmp_path / "data", other, overwrite=True, **config)
    assert _shards(rebuilt) != before


def test_changed_recipe_of_the_same_name_is_refused_naming_what_changed(tmp_path):
    from builders.rldg_mix.rldg_mix_dataset_builder import Builder

    dummy = BUILDERS / "rldg_mix" / "dummy_data"
    recipe = tmp_path / "my_mix.yaml"
    text = (f"name: my_mix\nseed: 0\nval_fraction: 0.2\nsources:\n  rl: {{path: {dummy / 'rl_demo'}, weight: 0.5}}\n"
            f"  human: {{path: {dummy / 'human_demo'}, weight: 0.5}}\n")
    recipe.write_text(text)
    built = Builder(config=str(recipe), data_dir=str(tmp_path / "data"))
    built.download_and_prepare()
    folder = Path(built.data_dir)
    record = json.loads((folder / INPUTS_FILE).read_text())
    assert set(record["parts"]) == {"recipe hash", "source rl digest", "source human digest"}
    before = sorted((p.name, p.read_bytes()) for p in folder.glob("*.tfrecord*"))

    recipe.write_text(text.replace("seed: 0", "seed: 1"))
    res = tfds_build("rldg_mix", "--config", str(recipe), "--data_dir", str(tmp_path / "data"))
    lines = error_lines(res)
    assert res.returncode != 0 and len(lines) == 1, res.stderr[-3000:]
    assert "was built from other inputs" in lines[0] and "changed: recipe hash " in lines[0], lines[0]
    assert "source rl digest" not in lines[0]  # only what changed is named
    assert sorted((p.name, p.read_bytes()) for p in folder.glob("*.tfrecord*")) == before
