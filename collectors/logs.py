"""Reading collector logs (envlogger Riegeli folders) back as contract `Episode`s.

A log root holds one folder per completed episode (`worker-000/ep-000003/`, see `recorder`);
`.partial` folders of interrupted episodes are skipped, so whatever a killed collector left behind
reads as exactly its completed episodes. `read_episode` turns envlogger's (timestep, previous
action) pairs into RLDS steps: step t holds observation t, the action taken on it, the reward and
discount that action earned, and its source; the last step holds the final observation with a zero
action, as `envlogger.backends.rlds_utils` does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from collectors.recorder import METADATA_KEY, PARTIAL_SUFFIX, quiet_envlogger
from rldg_data.contract import spec
from rldg_data.contract.episode import Episode, EpisodeMetadata, text_array
from rldg_data.errors import ContractError, DatasetError

LOG_METADATA_FILE = "metadata.riegeli"

_OBSERVATION_FIELDS = {"image": spec.IMAGE, "wrist_image": spec.WRIST_IMAGE, "state": spec.STATE,
                       "privileged_state": spec.PRIVILEGED_STATE}


def is_episode_log(path: Path) -> bool:
    """A completed episode log: a folder with envlogger's metadata file, not a `.partial` one."""
    return (path.is_dir() and not path.name.startswith(".") and not path.name.endswith(PARTIAL_SUFFIX)
            and (path / LOG_METADATA_FILE).is_file())


def episode_logs(roots: Iterable[str | os.PathLike]) -> list[Path]:
    """Every completed episode log under `roots` (searched recursively), sorted by path."""
    found = []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            raise DatasetError(f"log folder {root} does not exist")
        if is_episode_log(root):
            found.append(root)
            continue
        for dirpath, dirnames, _ in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # skip .partial folders
            for d in list(dirnames):
                path = Path(dirpath) / d
                if is_episode_log(path):
                    found.append(path)
                    dirnames.remove(d)
    return sorted(found)


def read_episode(path: str | os.PathLike) -> Episode:
    """The contract `Episode` recorded in one episode log folder (images as uint8 arrays)."""
    quiet_envlogger()
    import envlogger

    path = Path(path)
    try:
        reader = envlogger.Reader(str(path))
    except RuntimeError as exc:
        raise ContractError(f"not a readable envlogger log: {exc}", file=str(path)) from exc
    with reader:
        header = (reader.metadata() or {}).get(METADATA_KEY)
        if not header:
            raise ContractError("log has no rldg metadata (not written by collectors)", file=str(path))
        if len(reader.episodes) != 1:
            raise ContractError(f"log holds {len(reader.episodes)} episodes, expected 1", file=str(path),
                                episode_id=header.get("episode_id"))
        log_steps = list(reader.episodes[0])
        outcome = reader.episode_metadata()[0] or {}
    return _to_episode(log_steps, header, outcome, path)


def _to_episode(log_steps, header, outcome, path: Path) -> Episode:
    eid = header["episode_id"]
    n = len(log_steps)
    if n < 2 or not log_steps[-1].timestep.last():
        raise ContractError(f"log of {n} steps does not end with a last timestep", file=str(path),
                            episode_id=eid, hint="the episode was cut short; re-collect it")
    steps: dict[str, np.ndarray] = {}
    first_obs = log_steps[0].timestep.observation
    for key, field in _OBSERVATION_FIELDS.items():
        if key in first_obs:
            steps[field] = np.stack([s.timestep.observation[key] for s in log_steps])
    nxt = log_steps[1:]
    action = np.asarray([s.action for s in nxt], np.float32)
    steps[spec.ACTION] = np.concatenate([action, np.zeros_like(action[:1])])
    steps[spec.REWARD] = np.asarray([s.timestep.reward for s in nxt] + [0.0], np.float32)
    steps[spec.DISCOUNT] = np.asarray([s.timestep.discount for s in nxt] + [0.0], np.float32)
    first = np.zeros(n, np.bool_)
    first[0] = True
    last = np.zeros(n, np.bool_)
    last[-1] = True
    steps[spec.IS_FIRST], steps[spec.IS_LAST] = first, last
    steps[spec.IS_TERMINAL] = last & (float(log_steps[-1].timestep.discount) == 0.0)
    steps[spec.LANGUAGE_INSTRUCTION] = text_array([header.get("language_instruction", "")] * n)
    sources = [str(s.custom_data["action_source"]) for s in nxt]
    steps[spec.SOURCE] = text_array(sources + sources[-1:])
    steps[spec.STAGE] = np.asarray([s.custom_data["stage"] for s in log_steps], np.int32)
    meta = EpisodeMetadata(
        episode_id=eid, task=header["task"], variant=header["variant"], split=header["split"],
        policy_id=header["policy_id"], success=bool(outcome.get("success", False)),
        episode_return=float(steps[spec.REWARD].sum()), length=n, seed=int(header["seed"]),
        recipe_hash="")
    return Episode(steps, meta)


def iter_log_episodes(roots: Iterable[str | os.PathLike]) -> Iterator[Episode]:
    """Episodes of every completed log under `roots`, in path order."""
    for path in episode_logs(roots):
        yield read_episode(path)


def log_spec(roots: Iterable[str | os.PathLike], image_encoding: str = "jpeg") -> spec.DatasetSpec:
    """The `DatasetSpec` of the logs under `roots` (from the first one; a builder checks the rest)."""
    import dataclasses

    paths = episode_logs(roots)
    if not paths:
        raise DatasetError(f"no completed episode logs under {[str(r) for r in roots]}")
    return dataclasses.replace(read_episode(paths[0]).spec(), image_encoding=image_encoding)
