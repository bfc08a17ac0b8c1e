"""LeRobot v3.0 episodes -> contract `Episode`s, through a small mapping (`builders/lerobot_import`).

What cannot be guessed comes from a YAML mapping (all keys optional):

    state: observation.state          # the frame column that is observation/state
    image: observation.images.front   # the camera that is observation/image
    wrist_image: observation.images.wrist   # optional second camera
    image_size: 128                   # centre-crop + resize (default: the camera's own square size)
    action: {key: action, from_stats: true}  # or low/high lists, dims, clip (see ActionMap)
    source: human                     # plus task, variant, split, policy_id, success defaults

Columns our own export writes (`source`, `stage`, `discount`, `next.reward`, `next.done`,
`observation.privileged_state`, the `episode_metadata/*` episode columns) are used when present,
so contract -> LeRobot -> contract gives back every field; other datasets get the defaults.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from rldg_data.contract.check import episode_violations
from rldg_data.contract import spec
from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.errors import ContractError
from rldg_data.imports.mapping import (DEFAULT_KEYS, ActionMap, EpisodeDefaults, check_keys, load_yaml,
                                       parse_action, parse_defaults)
from rldg_data.io.images import resize_frames
from rldg_data.io.lerobot_features import CAMERAS, EPISODE_METADATA_PREFIX, SCALAR_COLUMNS, VECTOR_COLUMNS
from rldg_data.imports.lerobot_files import EpisodeFrames, LeRobotFolder, open_lerobot


@dataclasses.dataclass(frozen=True)
class LeRobotMapping:
    """The parsed mapping YAML of a LeRobot import (see the module docstring)."""

    state: str = VECTOR_COLUMNS[spec.STATE]
    image: Optional[str] = None
    wrist_image: Optional[str] = None
    image_size: Optional[int] = None
    action: ActionMap = ActionMap()
    defaults: EpisodeDefaults = EpisodeDefaults()
    file: Optional[str] = None

    @classmethod
    def load(cls, path: Optional[str | Path]) -> "LeRobotMapping":
        file = str(path) if path else None
        data = load_yaml(path)
        check_keys(data, ["state", "image", "wrist_image", "image_size", "action", *DEFAULT_KEYS], file)
        size = data.get("image_size")
        if size is not None and (not isinstance(size, int) or size <= 0 or size % 2):
            raise ContractError(f"image_size must be a positive even integer, got {size!r}", file=file,
                                field="image_size")
        return cls(state=str(data.get("state", cls.state)), image=data.get("image"),
                   wrist_image=data.get("wrist_image"), image_size=size,
                   action=parse_action(data.get("action"), file),
                   defaults=parse_defaults(data, file), file=file)


def _need(folder: LeRobotFolder, key: str, mapping: LeRobotMapping, field: str) -> dict:
    if key not in folder.features:
        raise ContractError(f"{key!r} is not a feature of this dataset (features: {sorted(folder.features)})",
                            file=mapping.file or str(folder.root / "meta/info.json"), field=field)
    return folder.features[key]


def cameras(folder: LeRobotFolder, mapping: LeRobotMapping) -> dict[str, str]:
    """contract image field -> LeRobot video key."""
    videos = folder.camera_keys
    image = mapping.image
    if image is None:
        default = CAMERAS[spec.IMAGE]
        if default in videos or len(videos) == 1:
            image = default if default in videos else videos[0]
        else:
            raise ContractError(f"which camera is observation/image? the dataset has {videos}",
                                file=mapping.file or str(folder.root / "meta/info.json"), field="image",
                                hint="name one in the mapping YAML: image: <video key>")
    out = {spec.IMAGE: image}
    wrist = mapping.wrist_image
    if wrist is None and mapping.image is None and CAMERAS[spec.WRIST_IMAGE] in videos:
        wrist = CAMERAS[spec.WRIST_IMAGE]
    if wrist:
        out[spec.WRIST_IMAGE] = wrist
    for field, key in out.items():
        if _need(folder, key, mapping, field.split("/")[-1]).get("dtype") not in ("video", "image"):
            raise ContractError(f"{key!r} is not a camera (a video or image feature)", file=mapping.file,
                                field=field.split("/")[-1])
    return out


def dataset_spec(folder: LeRobotFolder, mapping: LeRobotMapping) -> spec.DatasetSpec:
    """The contract sizes of the import: image size, wrist camera, state and action sizes."""
    cams = cameras(folder, mapping)
    shape = folder.features[cams[spec.IMAGE]]["shape"]
    size = mapping.image_size
    if size is None:
        if shape[0] != shape[1]:
            raise ContractError(f"camera {cams[spec.IMAGE]} is {shape[0]}x{shape[1]}, the contract's images "
                                "are square", file=mapping.file, field="image_size",
                                hint="set image_size in the mapping YAML (centre crop + resize)")
        size = int(shape[0])
    state = _need(folder, mapping.state, mapping, "state")
    action = _need(folder, mapping.action.key, mapping, "action")
    privileged = folder.features.get(VECTOR_COLUMNS[spec.PRIVILEGED_STATE])
    return spec.DatasetSpec(image_size=size, wrist=spec.WRIST_IMAGE in cams,
                            state_dim=int(np.prod(state["shape"])),
                            action_dim=mapping.action.out_dim(int(np.prod(action["shape"]))),
                            privileged_dim=int(privileged["shape"][0]) if privileged else 0)


def split_ranges(folder: LeRobotFolder) -> dict[str, range]:
    """Episode ranges of info.json's `splits` ("train": "0:40"), or everything as train when they
    do not cover every episode exactly once."""
    total = len(folder.episodes)
    ranges = {}
    try:
        for name, text in (folder.info.get("splits") or {}).items():
            start, end = (int(x) for x in str(text).split(":"))
            ranges[name] = range(start, end)
    except ValueError:
        return {"train": range(total)}
    covered = sorted(i for r in ranges.values() for i in r)
    return ranges if covered == list(range(total)) and total else {"train": range(total)}


def iter_lerobot_episodes(root: str | Path, mapping: LeRobotMapping = LeRobotMapping(),
                          folder: Optional[LeRobotFolder] = None,
                          episodes: Optional[range] = None) -> Iterator[Episode]:
    """Contract episodes of the LeRobot folder `root` (or of `episodes` only), validated, in order."""
    folder = folder or open_lerobot(root)
    data_spec = dataset_spec(folder, mapping)
    cams = cameras(folder, mapping)
    low = high = None
    if mapping.action.from_stats:
        action_stats = folder.stats().get(mapping.action.key)
        if not action_stats:
            raise ContractError(f"no statistics for {mapping.action.key!r}", file=str(folder.root / "meta/stats.json"),
                                field=mapping.action.key)
        low, high = action_stats["min"], action_stats["max"]
    for frames in folder.iter_frames(list(cams.values()), episodes):
        episode = _to_episode(folder, mapping, frames, cams, data_spec, low, high)
        found = episode_violations(episode, data_spec)
        if found:
            raise found[0].located(file=str(folder.data_path(frames.row)))
        yield episode


def _to_episode(folder, mapping, frames: EpisodeFrames, cams, data_spec, low, high) -> Episode:
    cols, n, row = frames.columns, int(frames.row["length"]), frames.row
    images = {f: resize_frames(frames.cameras[k], data_spec.image_size, center_crop=True) for f, k in cams.items()}
    rewards = cols.get(SCALAR_COLUMNS[spec.REWARD][0])
    steps = make_steps(
        images=images[spec.IMAGE], states=cols[mapping.state].reshape(n, -1),
        actions=mapping.action.apply(cols[mapping.action.key].reshape(n, -1), low, high),
        language_instruction="", source=mapping.defaults.source,
        rewards=rewards, wrist_images=images.get(spec.WRIST_IMAGE),
        privileged_states=cols.get(VECTOR_COLUMNS[spec.PRIVILEGED_STATE]),
        stages=cols.get(SCALAR_COLUMNS[spec.STAGE][0]))
    steps[spec.LANGUAGE_INSTRUCTION] = np.asarray(frames.tasks, dtype=np.str_)
    for field in (spec.SOURCE, spec.DISCOUNT, spec.IS_TERMINAL):
        key, dtype = SCALAR_COLUMNS[field]
        if key in cols:
            steps[field] = np.asarray(cols[key]).astype(str) if dtype == "string" else np.asarray(cols[key], dtype)
    return Episode(steps, _metadata(folder, mapping, row, steps, n))


def _metadata(folder, mapping, row, steps, n) -> EpisodeMetadata:
    stored = {k[len(EPISODE_METADATA_PREFIX):]: v for k, v in row.items() if k.startswith(EPISODE_METADATA_PREFIX)}
    if stored:
        return EpisodeMetadata.from_dict(stored)
    d, name, ep = mapping.defaults, folder.root.name, int(row["episode_index"])
    episode_return = float(np.asarray(steps[spec.REWARD], np.float32).sum())
    return EpisodeMetadata(
        episode_id=f"{name}/{ep:06d}", task=d.task or name, variant=d.variant, split=d.split,
        policy_id=d.policy_id or f"lerobot:{name}",
        success=d.success if d.success is not None else episode_return > 0,
        episode_return=episode_return, length=n, seed=ep, recipe_hash="")


def import_lerobot(root: str | Path, out: str | Path, mapping_file: Optional[str | Path] = None, *,
                   name: str = "lerobot_import", overwrite: bool = False,
                   progress=None) -> Path:
    """`rldg import lerobot`: the LeRobot folder `root` as the contract dataset `out/name/1.0.0`
    (what `tfds build builders/lerobot_import` builds, without TFDS): validated first, info.json's
    splits kept, its fps in metadata.json; written aside and renamed into place."""
    from rldg_data.io.atomic import write_json_atomic
    from rldg_data.io.writer import DatasetWriter

    folder = open_lerobot(root)
    mapping = LeRobotMapping.load(mapping_file)
    data_spec = dataset_spec(folder, mapping)
    writer = DatasetWriter(out, name, data_spec, overwrite=overwrite,
                           description=f"LeRobot dataset {folder.root} imported by rldg import lerobot.")
    try:
        for split, episodes in split_ranges(folder).items():
            for episode in iter_lerobot_episodes(folder.root, mapping, folder, episodes):
                writer.add(episode, split)
                if progress:
                    progress(1)
        write_json_atomic(writer.tmp_dir / "metadata.json", {"fps": folder.fps})
        return writer.commit()
    except BaseException:
        writer.abort()
        raise
