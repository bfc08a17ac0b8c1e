"""Any RLDS dataset on disk -> contract `Episode`s, through a mapping YAML (`builders/rlds_import`).

The dataset is opened with `tfds.builder_from_directory`, so anything `tfds build` wrote (an Open
X-Embodiment dataset, Octo's or our own) can be read without its builder code. The mapping names,
as paths inside an episode (`steps/...` or `episode_metadata/...`), where each contract field is:

    dataset: /data/fractal/0.1.0           # the RLDS version folder (required)
    splits: [train]                         # default: every split
    image: steps/observation/rgb            # required
    wrist_image: steps/observation/wrist    # optional
    state: steps/observation/joint_pos      # required
    action: {key: steps/action, low: -1, high: 1, dims: [0, 1, 2, 6]}   # see ActionMap
    # or, for a dict action (Open X-Embodiment), its parts in order (each an ActionMap), concatenated:
    # action: [steps/action/world_vector, steps/action/rotation_delta,
    #          {key: steps/action/gripper_closedness_action, invert: true}]
    # state may be a list of parts the same way (no bounds needed: the state is not bounded)
    language_instruction: episode_metadata/instruction   # a step or an episode field
    reward: steps/reward                    # optional (default: steps/reward if present, else 0)
    episode_id: episode_metadata/file_path  # optional (default: <name>/<split>/<index>)
    source: human                           # default source; task, variant, split, policy_id, success too

Every path is checked against the dataset's features before anything is read or written: a
missing one is a ContractError naming the mapping file, the mapping key and the features there are.
`dataset` may start with `~`; a relative one is relative to the mapping file; the builder's config
may override it (so the mapping files shipped in builders/rlds_import/mappings/ fit any location).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from rldg_data.contract.check import episode_violations
from rldg_data.contract import spec
from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps, text_array
from rldg_data.errors import ContractError
from rldg_data.imports.mapping import (DEFAULT_KEYS, Concat, EpisodeDefaults, check_keys, load_yaml,
                                       parse_concat, parse_defaults)
from rldg_data.io.images import resize_frames

_PATH_KEYS = ("image", "wrist_image", "language_instruction", "reward", "discount", "is_terminal",
              "stage", "episode_id")
_STEP_KEYS = ("image", "wrist_image", "state", "action", "reward", "discount", "is_terminal", "stage")
_OPTIONAL_DEFAULT_PATHS = {"reward": "steps/reward", "discount": "steps/discount",
                           "is_terminal": "steps/is_terminal"}


@dataclasses.dataclass(frozen=True)
class RldsMapping:
    """The parsed mapping YAML of an RLDS import (see the module docstring)."""

    dataset: str
    paths: dict[str, str]
    action: Concat
    defaults: EpisodeDefaults
    state: Concat = Concat(())
    splits: Optional[tuple[str, ...]] = None
    image_size: Optional[int] = None
    file: Optional[str] = None

    @classmethod
    def load(cls, path: str | Path, dataset: Optional[str] = None) -> "RldsMapping":
        """The mapping at `path`; `dataset` (if given) replaces the file's `dataset`."""
        file = str(path)
        data = load_yaml(path)
        check_keys(data, ["dataset", "splits", "image_size", "action", "state", *_PATH_KEYS, *DEFAULT_KEYS], file)
        if dataset:
            data["dataset"] = dataset
        for key in ("dataset", "image", "state"):
            if not data.get(key):
                raise ContractError("required key missing", file=file, field=key)
        folder = Path(str(data["dataset"])).expanduser()
        if not folder.is_absolute():
            folder = Path(file).parent / folder
        paths = {k: str(data[k]) for k in _PATH_KEYS if data.get(k)}
        action = parse_concat(data.get("action", "steps/action"), file, "action", "steps/action")
        state = parse_concat(data["state"], file, "state", "")
        for name, concat in (("action", action), ("state", state)):
            for i, part in enumerate(concat.parts):
                if part.from_stats:
                    raise ContractError("from_stats is for LeRobot imports; give low and high", file=file,
                                        field=f"{concat.field(i, name)}.from_stats")
                if not part.key:
                    raise ContractError("key missing", file=file, field=f"{concat.field(i, name)}.key")
        size = data.get("image_size")
        if size is not None and (not isinstance(size, int) or size <= 0 or size % 2):
            raise ContractError(f"image_size must be a positive even integer, got {size!r}", file=file,
                                field="image_size")
        splits = data.get("splits")
        return cls(dataset=str(folder), paths=paths, action=action, state=state,
                   defaults=parse_defaults(data, file), splits=tuple(splits) if splits else None,
                   image_size=size, file=file)


def _lookup(features, path: str):
    """The feature at `path` ('steps/observation/rgb') of an RLDS FeaturesDict, or None."""
    node = features
    for part in path.split("/"):
        if hasattr(node, "feature") and not hasattr(node, "keys"):  # a tfds Dataset feature
            node = node.feature
        try:
            node = node[part]
        except (KeyError, TypeError):
            return None
    return node


def _feature_paths(features, prefix: str = "") -> list[str]:
    out = []
    node = features.feature if hasattr(features, "feature") and not hasattr(features, "keys") else features
    if hasattr(node, "keys"):
        for key in node.keys():
            out += _feature_paths(node[key], f"{prefix}{key}/")
    else:
        out.append(prefix.rstrip("/"))
    return out


class RldsSource:
    """An RLDS dataset opened through a mapping, its paths checked against its features."""

    def __init__(self, mapping: RldsMapping) -> None:
        import tensorflow_datasets as tfds

        self.mapping = mapping
        try:
            self.builder = tfds.builder_from_directory(mapping.dataset)
        except Exception as exc:
            raise ContractError(f"not an RLDS/TFDS dataset folder: {exc}", file=mapping.file,
                                field="dataset") from exc
        features = self.features = self.builder.info.features
        self.paths = dict(mapping.paths)
        for name, concat in (("action", mapping.action), ("state", mapping.state)):
            for i, part in enumerate(concat.parts):
                self.paths[concat.field(i, name)] = part.key
        for key, path in _OPTIONAL_DEFAULT_PATHS.items():
            if key not in self.paths and _lookup(features, path) is not None:
                self.paths[key] = path
        for key, path in self.paths.items():
            if _lookup(features, path) is None or not path.startswith(("steps/", "episode_metadata/")):
                raise ContractError(f"{path!r} is not a field of {mapping.dataset} (fields: "
                                    f"{_feature_paths(features)})", file=mapping.file, field=key)
        for key, path in self.paths.items():
            if key.split("[")[0] in _STEP_KEYS and not path.startswith("steps/"):
                raise ContractError(f"{key} must be a step field (steps/...)", file=mapping.file, field=key)
        for name, concat in (("action", mapping.action), ("state", mapping.state)):
            for i, part in enumerate(concat.parts):
                part.check_dims(self._dim(concat.field(i, name)), mapping.file, concat.field(i, name))
        self.splits = list(mapping.splits or self.builder.info.splits.keys())
        for split in self.splits:
            if split not in self.builder.info.splits:
                raise ContractError(f"no split {split!r} (has {list(self.builder.info.splits.keys())})",
                                    file=mapping.file, field="splits")

    def _dim(self, key: str) -> int:
        """The number of values of the step field mapped as `key` (1 for a scalar)."""
        shape = _lookup(self.features, self.paths[key]).shape
        return int(np.prod(shape)) if shape else 1

    def _dims(self, name: str, concat: Concat) -> list[int]:
        return [self._dim(concat.field(i, name)) for i in range(len(concat.parts))]

    @property
    def name(self) -> str:
        return self.builder.info.name

    def dataset_spec(self) -> spec.DatasetSpec:
        image = _lookup(self.features, self.paths["image"]).shape
        size = self.mapping.image_size
        if size is None:
            if image[0] != image[1] or image[0] is None:
                raise ContractError(f"images are {image[0]}x{image[1]}; the contract's are square",
                                    file=self.mapping.file, field="image_size",
                                    hint="set image_size in the mapping (centre crop + resize)")
            size = int(image[0])
        return spec.DatasetSpec(image_size=int(size), wrist="wrist_image" in self.paths,
                                state_dim=self.mapping.state.out_dim(self._dims("state", self.mapping.state)),
                                action_dim=self.mapping.action.out_dim(self._dims("action", self.mapping.action)))

    def iter_episodes(self) -> Iterator[Episode]:
        import tensorflow as tf

        data_spec = self.dataset_spec()
        for split in self.splits:
            ds = self.builder.as_dataset(split=split, shuffle_files=False)
            for index, episode in enumerate(ds):
                chunks = [tf.nest.map_structure(lambda t: t.numpy(), c) for c in episode["steps"].batch(1024)]
                numpy_steps = tf.nest.map_structure(lambda *parts: np.concatenate(parts), *chunks)
                meta = tf.nest.map_structure(lambda t: t.numpy(), episode.get("episode_metadata", {}))
                record = {"steps": numpy_steps, "episode_metadata": meta}
                out = self._to_episode(record, split, index, data_spec)
                found = episode_violations(out, data_spec)
                if found:
                    raise found[0].located(file=f"{self.mapping.dataset} split {split} episode #{index}")
                yield out

    def _get(self, record, key):
        node = record
        for part in self.paths[key].split("/"):
            node = node[part]
        return node

    def _concat(self, record, name: str, concat: Concat) -> np.ndarray:
        return concat.apply([np.asarray(self._get(record, concat.field(i, name))) for i in range(len(concat.parts))])

    def _text(self, record, key, n) -> np.ndarray:
        value = self._get(record, key)
        values = np.atleast_1d(value)
        values = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]
        return text_array(values if len(values) == n else values[:1] * n)

    def _to_episode(self, record, split: str, index: int, data_spec: spec.DatasetSpec) -> Episode:
        d = self.mapping.defaults
        actions = self._concat(record, "action", self.mapping.action)
        n = len(actions)
        opt = {k: np.asarray(self._get(record, k)) for k in ("reward", "discount", "is_terminal", "stage")
               if k in self.paths}
        images = resize_frames(np.asarray(self._get(record, "image")), data_spec.image_size, center_crop=True)
        wrist = (resize_frames(np.asarray(self._get(record, "wrist_image")), data_spec.image_size, center_crop=True)
                 if "wrist_image" in self.paths else None)
        instruction = self._text(record, "language_instruction", n) if "language_instruction" in self.paths else None
        steps = make_steps(images=images, states=self._concat(record, "state", self.mapping.state),
                           actions=actions,
                           language_instruction="", source=d.source, rewards=opt.get("reward"),
                           stages=opt.get("stage"), wrist_images=wrist)
        if instruction is not None:
            steps[spec.LANGUAGE_INSTRUCTION] = instruction
        if "discount" in opt:
            steps[spec.DISCOUNT] = opt["discount"].astype(np.float32)
        if "is_terminal" in opt:
            steps[spec.IS_TERMINAL] = opt["is_terminal"].astype(np.bool_)
        episode_id = (self._text(record, "episode_id", 1)[0] if "episode_id" in self.paths
                      else f"{self.name}/{split}/{index:06d}")
        episode_return = float(steps[spec.REWARD].sum())
        metadata = EpisodeMetadata(
            episode_id=episode_id, task=d.task or self.name, variant=d.variant, split=d.split,
            policy_id=d.policy_id or f"rlds:{self.name}",
            success=d.success if d.success is not None else episode_return > 0,
            episode_return=episode_return, length=n, seed=index, recipe_hash="")
        return Episode(steps, metadata)
