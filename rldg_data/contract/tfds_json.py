"""A contract dataset's TFDS metadata as JSON, written without importing TensorFlow Datasets.

`features_json(spec)` is the one definition of the dataset's TFDS features, in the layout TFDS
writes to `features.json` (`FeatureConnector.save_config`: the features' proto as JSON, shapes as
strings, `pythonClassName`, and `description` where a feature has a doc). `features_for` turns
it into a TFDS `FeaturesDict` with TFDS's own reader of that file (`FeatureConnector.from_json`) for
builders and writers. The mix writes it, and `dataset_info_json`, as they are: importing
tensorflow_datasets only to write these two files was most of a mix's finalize step (BENCHMARKS.md, "Design measurements"). Tests check that TFDS reads both back unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.contract import spec as S
from rldg_data.errors import ContractError

_TFDS = "tensorflow_datasets.core.features."
FILENAME_TEMPLATE = "{DATASET}-{SPLIT}.{FILEFORMAT}-{SHARD_X_OF_Y}"


def _feature(cls: str, body: dict, doc: Optional[str]) -> dict:
    out = {"pythonClassName": _TFDS + cls, **body}
    if doc:
        out["description"] = doc
    return out


def _shape(dims: Sequence[int]) -> dict:
    return {"dimensions": [str(d) for d in dims]} if dims else {}


def _text(doc: Optional[str] = None) -> dict:
    return _feature("text_feature.Text", {"text": {}}, doc)


def _scalar(dtype: str, doc: Optional[str] = None) -> dict:
    return _feature("scalar.Scalar", {"tensor": {"dtype": dtype, "encoding": "none", "shape": {}}}, doc)


def _tensor(dims: Sequence[int], dtype: str, doc: Optional[str] = None) -> dict:
    return _feature("tensor_feature.Tensor",
                    {"tensor": {"dtype": dtype, "encoding": "none", "shape": _shape(dims)}}, doc)


def _image(dims: Sequence[int], encoding: str, doc: str) -> dict:
    return _feature("image_feature.Image",
                    {"image": {"dtype": "uint8", "encodingFormat": encoding, "shape": _shape(dims)}}, doc)


def _features_dict(features: dict) -> dict:
    return _feature("features_dict.FeaturesDict", {"featuresDict": {"features": features}}, None)


def _dataset(feature: dict) -> dict:
    return _feature("dataset_feature.Dataset", {"sequence": {"feature": feature, "length": "-1"}}, None)


def features_json(spec: S.DatasetSpec) -> dict:
    """The TFDS features of a contract dataset described by `spec`, as `features.json` holds them."""
    hw = (spec.image_size, spec.image_size, 3)
    observation = {
        "image": _image(hw, spec.image_encoding, "Main camera RGB."),
        "state": _tensor((spec.state_dim,), "float32",
                         "Proprioception: end-effector position and gripper opening."),
    }
    if spec.wrist:
        observation["wrist_image"] = _image(hw, spec.image_encoding, "Wrist camera RGB.")
    if spec.privileged_dim:
        observation["privileged_state"] = _tensor(
            (spec.privileged_dim,), "float32",
            "Simulator-only object and goal poses (what state-based specialists act on).")
    step = {
        "observation": _features_dict(observation),
        "action": _tensor((spec.action_dim,), "float32",
                          "End-effector delta + gripper (+1 open), in [-1, 1]."),
        "reward": _scalar("float32"),
        "discount": _scalar("float32"),
        "is_first": _scalar("bool"),
        "is_last": _scalar("bool"),
        "is_terminal": _scalar("bool"),
        "language_instruction": _text(),
        "source": _text(f"Who acted: one of {', '.join(S.SOURCES)}."),
        "stage": _scalar("int32", "Stage of a multi-stage task (0 if single-stage)."),
    }
    metadata = {
        S.EPISODE_ID: _text("Globally unique, stable episode id."),
        S.TASK: _text(),
        S.VARIANT: _text(),
        S.SPLIT: _text("seen or unseen"),
        S.POLICY_ID: _text("Specialist checkpoint id or demonstrator id."),
        S.SUCCESS: _scalar("bool"),
        S.EPISODE_RETURN: _scalar("float32"),
        S.LENGTH: _scalar("int32"),
        S.SEED: _scalar("int64"),
        S.RECIPE_HASH: _text("Hash of the mix recipe that selected the episode, or ''."),
    }
    return _features_dict({S.STEPS: _dataset(_features_dict(step)),
                           S.EPISODE_METADATA: _features_dict(metadata)})


def dataset_info_json(name: str, version: str, description: Optional[str],
                      splits: Sequence[tuple[str, Sequence[int], int]]) -> dict:
    """TFDS's `dataset_info.json` of a folder of TFRecord shards named by `FILENAME_TEMPLATE`:
    `splits` is (split name, records per shard, bytes) per split."""
    info = {
        "name": name, "version": version, "fileFormat": "tfrecord",
        "splits": [{"name": split, "filepathTemplate": FILENAME_TEMPLATE, "numBytes": str(int(num_bytes)),
                    "shardLengths": [str(int(n)) for n in lengths]}
                   for split, lengths, num_bytes in splits],
    }
    if description:  # TFDS leaves an empty field out, as protobuf's JSON does
        info["description"] = description
    return info


def write_metadata(folder: Path, data_spec: S.DatasetSpec, name: str, version: str, description: Optional[str],
                   splits: Sequence[tuple[str, Sequence[int], int]]) -> None:
    """Writes `features.json` and `dataset_info.json` into `folder` (as TFDS formats them)."""
    (folder / "features.json").write_text(json.dumps(features_json(data_spec), indent=4, sort_keys=True))
    (folder / "dataset_info.json").write_text(
        json.dumps(dataset_info_json(name, version, description, splits), indent=2, sort_keys=True))


def features_for(spec: S.DatasetSpec):
    """Returns the TFDS `FeaturesDict` of a contract dataset described by `spec`: TFDS's reader of
    `features.json` applied to `features_json(spec)`, the features' one definition."""
    import tensorflow_datasets as tfds

    return tfds.features.FeatureConnector.from_json(features_json(spec))


def spec_from_features(feats) -> S.DatasetSpec:
    """Reads the `DatasetSpec` back from a `FeaturesDict` made by `features_for`.

    Raises ContractError naming the missing path when the features lack a contract field.
    """
    try:
        return _spec_from_features(feats)
    except KeyError as exc:
        raise ContractError("the features lack a contract field", field=str(exc.args[0]),
                            hint="contract datasets are made with tfds_json.features_for") from None


def _spec_from_features(feats) -> S.DatasetSpec:
    steps = feats[S.STEPS].feature
    obs = steps["observation"]
    image = obs["image"]
    state_shape = obs["state"].shape
    action_shape = steps["action"].shape
    wrist = "wrist_image" in obs.keys()
    privileged = obs["privileged_state"].shape[0] if "privileged_state" in obs.keys() else 0
    encoding = getattr(image, "_encoding_format", None) or "png"
    return S.DatasetSpec(
        image_size=int(image.shape[0]),
        wrist=wrist,
        state_dim=int(state_shape[0]),
        action_dim=int(action_shape[0]),
        image_encoding=str(encoding if encoding in ("jpeg", "png") else "png"),
        privileged_dim=int(privileged),
    )
