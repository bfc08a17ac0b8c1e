"""Importing HIL-SERL's pickled transitions (demos, replay buffers, rollouts) as a contract dataset.

HIL-SERL saves flat lists of transition dicts (`observations`, `actions`, `next_observations`,
`rewards`, `masks`, `dones`, `infos`); observations are `{"state": [1, D], <camera>: uint8
[1, H, W, 3]}` with a history axis of 1; episodes end where `dones` is true; a human intervention
shows only as `infos["intervene_action"]`; the gripper command (last action dimension) is relative
(-1 close, 0 hold, +1 open). The pure functions here split episodes, drop the history axis, mark
interventions and integrate the gripper into the absolute command (+1 open, -1 closed) that Octo and
OpenVLA expect; `file_episodes` reads one pickle (only when trusted) as contract episodes.

Two ways in, one conversion: `rldg import hil-serl` (`import_hil_serl`, writes the dataset with
`rldg_data.io.writer`) and `tfds build builders/hil_serl` (a TFDS builder over `file_episodes`).
Unpickling runs code stored in the file, so both refuse unless the user opts in: `--trust-pickle` /
`trust_pickle=True`, or for the builder a file named `TRUST_PICKLE` (`TRUST_MARKER`) in the folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.errors import ConfigError, ContractError, UnsafeInputError
from rldg_data.io.outputs import check_output

log = logging.getLogger(__name__)

TRANSITION_KEYS = ("observations", "actions", "next_observations", "rewards", "masks", "dones")
INTERVENE_KEY = "intervene_action"
GRIPPER_THRESHOLD = 0.5  # |relative command| above this opens or closes; below it holds
TRUST_MARKER = "TRUST_PICKLE"  # a file of this name in a pickle folder: its owner trusts the pickles


@dataclasses.dataclass(frozen=True)
class ImportOptions:
    """How HIL-SERL transitions become contract episodes.

    source: who acted where there was no intervention: "rl" (policy rollouts, buffers) or "human"
      (demonstration files); intervention steps are always `intervention`.
    instruction: the language_instruction of every step.
    task: episode_metadata/task (the contract wants one in every episode).
    variant: episode_metadata/variant.
    split: episode_metadata/split: seen or unseen.
    policy_id: episode_metadata/policy_id of every episode.
    wrist: also write the second camera as `observation/wrist_image`.
    cameras: camera keys in the order (main, wrist); None takes the observation's image keys in order.
    relative_gripper: convert the last action dimension from relative to absolute.
    """

    instruction: str = ""
    source: str = spec.SOURCE_RL
    task: str = "hil_serl"
    variant: str = ""
    split: str = "seen"
    policy_id: str = "hil-serl"
    wrist: bool = False
    cameras: Optional[tuple[str, ...]] = None
    relative_gripper: bool = True

    def __post_init__(self) -> None:
        if self.source not in (spec.SOURCE_RL, spec.SOURCE_HUMAN):
            raise ConfigError(f"ImportOptions.source must be 'rl' or 'human', got {self.source!r}")
        if self.split not in spec.SPLITS:
            raise ConfigError(f"ImportOptions.split must be one of {spec.SPLITS}, got {self.split!r}")


def load_transitions(path: str | os.PathLike, trust_pickle: bool = False) -> list[dict]:
    """The transition list of one HIL-SERL pickle; refuses unless `trust_pickle` is set."""
    if not trust_pickle:
        raise UnsafeInputError(
            f"{path}: refusing to unpickle: loading a pickle runs arbitrary code stored in the file. "
            f"Only load pickles you made or trust, and say so with --trust-pickle "
            f"(trust_pickle=True in Python).")
    with open(path, "rb") as f:
        data = pickle.load(f)  # noqa: S301 - the caller opted in above
    if not isinstance(data, list) or not all(isinstance(t, Mapping) for t in data):
        raise ContractError(f"expected a list of transition dicts, got {type(data).__name__}", file=str(path),
                            hint="give the .pkl files HIL-SERL's record_demos.py or its buffers wrote")
    for i, t in enumerate(data):
        missing = [k for k in TRANSITION_KEYS if k not in t]
        if missing:
            raise ContractError(f"transition lacks {missing}", file=str(path), step=i, field=missing[0])
    return data


def split_episodes(transitions: Sequence[Mapping]) -> tuple[list[list[Mapping]], int]:
    """Episodes (lists of transitions) cut after every `dones`; also how many trailing transitions
    were left over without a final `dones` (an episode still running when the file was saved)."""
    episodes, current = [], []
    for t in transitions:
        current.append(t)
        if bool(np.asarray(t["dones"]).any()):
            episodes.append(current)
            current = []
    return episodes, len(current)


def absolute_gripper(relative: np.ndarray, initial: float = 1.0, threshold: float = GRIPPER_THRESHOLD) -> np.ndarray:
    """Relative gripper commands (-1 close, 0 hold, +1 open) -> absolute (+1 open, -1 closed).

    The gripper starts at `initial` (open); a command above `threshold` opens it, below
    `-threshold` closes it, anything between holds the previous state.
    """
    out = np.empty(len(relative), np.float32)
    state = float(initial)
    for i, command in enumerate(np.asarray(relative, np.float32)):
        if command > threshold:
            state = 1.0
        elif command < -threshold:
            state = -1.0
        out[i] = state
    return out


def drop_history(value: Any, *, field: str, file: Optional[str], step: int, frame_ndim: int) -> np.ndarray:
    """[1, ...] -> [...]: HIL-SERL's history axis (the newest frame if it holds more than one)."""
    array = np.asarray(value)
    if array.ndim == frame_ndim + 1:
        return array[-1]
    if array.ndim == frame_ndim:
        return array
    raise ContractError(f"expected {frame_ndim} dims (+1 history axis), got shape {array.shape}",
                        file=file, step=step, field=field)


def camera_keys(observation: Mapping[str, Any], cameras: Optional[Sequence[str]]) -> list[str]:
    """Camera keys of an observation: the given ones, else every uint8 image key in order."""
    if cameras:
        return list(cameras)
    return [k for k, v in observation.items() if k != "state" and np.asarray(v).dtype == np.uint8
            and np.asarray(v).ndim >= 3]


def episode_from_transitions(transitions: Sequence[Mapping], episode_id: str, options: ImportOptions,
                             file: Optional[str] = None) -> Episode:
    """One HIL-SERL episode -> a contract Episode (RLDS alignment: T transitions, T+1 steps)."""
    first_obs = transitions[0]["observations"]
    cams = camera_keys(first_obs, options.cameras)
    needed = 2 if options.wrist else 1
    if len(cams) < needed:
        raise ContractError(f"needs {needed} camera(s), found {cams} among {sorted(first_obs)}", file=file,
                            episode_id=episode_id, field=spec.IMAGE,
                            hint="name them with cameras=(main, wrist) / --cameras")
    observations = [t["observations"] for t in transitions] + [transitions[-1]["next_observations"]]

    def stack(key: str, ndim: int, field: str) -> np.ndarray:
        frames = []
        for i, o in enumerate(observations):
            if key not in o:
                raise ContractError(f"observation has no {key!r}", file=file, episode_id=episode_id,
                                    step=i, field=field)
            frames.append(drop_history(o[key], field=field, file=file, step=i, frame_ndim=ndim))
        return np.stack(frames)

    states = stack("state", 1, spec.STATE).astype(np.float32)
    images = stack(cams[0], 3, spec.IMAGE)
    wrist = stack(cams[1], 3, spec.WRIST_IMAGE) if options.wrist else None
    actions, sources = [], []
    for t in transitions:
        infos = t.get("infos") or {}
        if INTERVENE_KEY in infos:
            actions.append(np.asarray(infos[INTERVENE_KEY], np.float32).reshape(-1))
            sources.append(spec.SOURCE_INTERVENTION)
        else:
            actions.append(np.asarray(t["actions"], np.float32).reshape(-1))
            sources.append(options.source)
    actions = np.stack(actions)
    if options.relative_gripper:
        actions[:, -1] = absolute_gripper(actions[:, -1])
    actions = np.concatenate([actions, np.zeros_like(actions[:1])])
    rewards = np.asarray([float(np.asarray(t["rewards"]).sum()) for t in transitions] + [0.0], np.float32)
    terminal = float(np.asarray(transitions[-1]["masks"]).sum()) == 0.0
    steps = make_steps(images=images, states=states, actions=actions, rewards=rewards,
                       language_instruction=options.instruction, source=sources + sources[-1:],
                       wrist_images=wrist, terminal=terminal)
    discount = np.asarray([float(np.asarray(t["masks"]).sum()) for t in transitions] + [0.0], np.float32)
    steps[spec.DISCOUNT] = discount
    last_infos = transitions[-1].get("infos") or {}
    success = bool(rewards[-2] > 0) or bool(last_infos.get("succeed", False))
    meta = EpisodeMetadata(episode_id=episode_id, task=options.task, variant=options.variant,
                           split=options.split, policy_id=options.policy_id, success=success,
                           episode_return=float(rewards.sum()), length=len(actions), seed=0)
    return Episode(steps, meta)


def file_episodes(path: str | os.PathLike, options: ImportOptions, trust_pickle: bool = False) -> Iterable[Episode]:
    """Episodes of one pickle; ids `hil-serl/<file stem>-<content hash>/<index>` are stable."""
    path = Path(path)
    transitions = load_transitions(path, trust_pickle)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    episodes, leftover = split_episodes(transitions)
    if leftover:
        log.warning("%s: dropped %d trailing transitions without a final `dones`", path, leftover)
    for i, ts in enumerate(episodes):
        yield episode_from_transitions(ts, f"hil-serl/{path.stem}-{digest}/{i:05d}", options, str(path))


IMPORT_COMMAND = "rldg import hil-serl"


def import_hil_serl(paths: Sequence[str | os.PathLike], out: str | os.PathLike, options: ImportOptions,
                    *, name: str = "hil_serl", trust_pickle: bool = False, overwrite: bool = False) -> Path:
    """Converts HIL-SERL pickles into one contract dataset `<out>/<name>/1.0.0`; returns its folder."""
    from rldg_data.io.writer import write_dataset

    if not trust_pickle:  # refuse before touching any file
        load_transitions(paths[0] if paths else "<no file>", trust_pickle=False)
    check_output(Path(out) / name / "1.0.0", IMPORT_COMMAND, force=overwrite, inputs=list(paths))

    def all_episodes():
        for p in paths:
            yield from file_episodes(p, options, trust_pickle)

    return write_dataset(all_episodes(), out, name, overwrite=overwrite, command=IMPORT_COMMAND,
                         inputs=list(paths),
                         description="HIL-SERL transitions imported by `rldg import hil-serl`.")


def pickle_files(folder: str | os.PathLike) -> list[Path]:
    """The `.pkl` files under `folder` (recursively, sorted); an error naming it when there are none."""
    from rldg_data.errors import DatasetError

    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder (give the folder holding HIL-SERL .pkl files)")
    found = sorted(p for p in folder.rglob("*.pkl") if p.is_file())
    if not found:
        raise DatasetError(f"{folder}: no .pkl files in it (give the folder holding HIL-SERL .pkl files)")
    return found


def folder_trusted(folder: str | os.PathLike) -> bool:
    """Whether the user marked `folder` as holding pickles they made or trust (a `TRUST_MARKER` file)."""
    return (Path(folder) / TRUST_MARKER).is_file()
