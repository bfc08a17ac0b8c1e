"""TFDS metadata written without TensorFlow Datasets (`contract.tfds_json`) is what TFDS writes."""

from __future__ import annotations

import itertools
import json
import shutil

import pytest

from rldg_data.contract import spec, tfds_json
from rldg_data.contract.tfds_json import features_json

SPECS = [spec.DatasetSpec(size, wrist, state, action, encoding, privileged)
         for size, wrist, state, action, encoding, privileged
         in itertools.product((64, 128), (False, True), (4, 7), (4,), ("jpeg", "png"), (0, 9))]


@pytest.mark.parametrize("data_spec", SPECS, ids=str)
def test_tfds_reads_the_features_back_unchanged(data_spec):
    tfds = pytest.importorskip("tensorflow_datasets")
    from google.protobuf import json_format

    feats = tfds.features.FeatureConnector.from_json(features_json(data_spec))
    assert json_format.MessageToDict(feats.to_proto()) == features_json(data_spec)
    assert tfds_json.spec_from_features(feats) == data_spec


def test_a_written_dataset_has_the_metadata_tfds_itself_writes(tiny_dataset, tmp_path):
    """The same shards given to TFDS's own `write_metadata`: identical `features.json` and
    `dataset_info.json`; and TFDS loads the dataset."""
    tfds = pytest.importorskip("tensorflow_datasets")
    path, episodes = tiny_dataset
    ours = {name: json.loads((path / name).read_text()) for name in ("features.json", "dataset_info.json")}
    theirs_dir = tmp_path / "theirs" / path.name
    shutil.copytree(path, theirs_dir)
    for name in ours:
        (theirs_dir / name).unlink()
    info = ours["dataset_info.json"]
    tfds.folder_dataset.write_metadata(
        data_dir=str(theirs_dir), features=tfds_json.features_for(_spec_of(path)),
        split_infos=[tfds.core.SplitInfo(name=s["name"], shard_lengths=[int(n) for n in s["shardLengths"]],
                                         num_bytes=int(s["numBytes"])) for s in info["splits"]],
        filename_template="{DATASET}-{SPLIT}.{FILEFORMAT}-{SHARD_X_OF_Y}", check_data=False,
        description=info["description"])
    for name, value in ours.items():
        assert json.loads((theirs_dir / name).read_text()) == value, name
    builder = tfds.builder_from_directory(str(path))
    assert builder.info.splits.total_num_examples == len(episodes)


def _spec_of(path):
    from rldg_data.io.reader import open_dataset

    return open_dataset(path).spec


def test_a_mix_is_built_without_importing_tensorflow_datasets(tiny_dataset, tmp_path):
    """`rldg mix` writes TFDS metadata itself: importing TFDS was most of its finalize step."""
    import subprocess
    import sys
    import textwrap

    path, episodes = tiny_dataset
    script = textwrap.dedent(f"""
        import sys
        from rldg_data.mix.pipeline import build_mix
        from rldg_data.mix.recipe import recipe_from_dict
        recipe = recipe_from_dict({{"name": "m", "seed": 0, "sources": {{"s": {{"path": {str(path)!r}}}}}}}, "/")
        build_mix(recipe, {str(tmp_path / "out")!r})
        print(sorted(m for m in ("tensorflow", "tensorflow_datasets") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    tfds = pytest.importorskip("tensorflow_datasets")
    built = tfds.builder_from_directory(str(tmp_path / "out" / "m" / "1.0.0"))
    assert built.info.splits.total_num_examples == len(episodes)
