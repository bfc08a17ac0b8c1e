"""Reading collector logs (envlogger Riegeli folders) back as contract `Episode`s.

A log root holds one folder per completed episode (`worker-000/ep-000003/`, see `recorder`);
`.partial` folders of interrupted episodes are skipped, so whatever a killed collector left behind
reads as exactly its completed episodes. `read_episode` turns envlogger's (timestep, previous
action) pairs into RLDS steps: step t holds observation t, the action taken on it, the reward and
discount that action earned, and its source; the last step holds the final observation with a zero
action, as `envlogger.backends.rlds_utils` does.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from collectors.recorder import METADATA_KEY, OUTCOME_FILE, PARTIAL_SUFFIX, quiet_envlogger
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


_HEADER_FIELDS = ("episode_id", "task", "variant", "split", "policy_id", "seed")
_DAMAGE_HINT = "the log is damaged (truncated or corrupt file); re-collect this episode or build without it"


def _episode_hint(path: Path) -> str | None:
    """The episode id from `outcome.json`, to name an episode whose log cannot be opened."""
    try:
        return json.loads((path / OUTCOME_FILE).read_text()).get("episode_id")
    except (OSError, ValueError, AttributeError):
        return None


@contextlib.contextmanager
def _quiet_failed_reader():
    """envlogger 1.2 prints an absl ERROR banner on an empty step file, and its Reader's __del__
    raises AttributeError after a failed open ("Exception ignored in ..."): our ContractError says
    what happened, so keep both off the user's screen while a log is opened."""
    import logging as std_logging

    absl_logger = std_logging.getLogger("absl")
    level, hook = absl_logger.level, sys.unraisablehook

    def ignore_envlogger_del(unraisable):
        if not str(getattr(unraisable.object, "__module__", "")).startswith("envlogger"):
            hook(unraisable)

    absl_logger.setLevel(std_logging.CRITICAL)
    sys.unraisablehook = ignore_envlogger_del
    failed = True
    try:
        yield
        failed = False
    finally:
        if failed:  # a half-made Reader's __del__ runs now, under the hook (a full collection
            gc.collect()  # costs ~0.3 s with TensorFlow loaded: not on every healthy log)
        absl_logger.setLevel(level)
        sys.unraisablehook = hook


def read_episode(path: str | os.PathLike) -> Episode:
    """The contract `Episode` recorded in one episode log folder (images as uint8 arrays).

    A log that cannot be read whole (a truncated or corrupt Riegeli file, missing or unparsable
    metadata, an outcome file that disagrees with the steps) raises ContractError naming the
    folder and, where it can be known, the episode.
    """
    quiet_envlogger()
    import envlogger

    path = Path(path)
    eid = _episode_hint(path)
    with _quiet_failed_reader():
        failure = None
        try:
            reader = envlogger.Reader(str(path))
        except RuntimeError as exc:  # raised below, once this traceback (and the half-made
            failure = str(exc)       # Reader it holds) is gone, so that its __del__ runs here
        if failure is not None:
            raise ContractError(f"not a readable envlogger log: {failure}", file=str(path),
                                episode_id=eid, hint=_DAMAGE_HINT)
        with reader:
            try:
                header = (reader.metadata() or {}).get(METADATA_KEY)
                _check_header(header, path, eid)
                eid = header["episode_id"]
                if len(reader.episodes) != 1:
                    raise ContractError(f"log holds {len(reader.episodes)} episodes, expected 1",
                                        file=str(path), episode_id=eid, hint=_DAMAGE_HINT)
                log_steps = list(reader.episodes[0])
                outcome = reader.episode_metadata()[0]
            except ContractError:
                raise
            except (TypeError, ValueError, KeyError, IndexError, RuntimeError, AttributeError) as exc:
                raise ContractError(f"log cannot be read: {type(exc).__name__}: {exc}", file=str(path),
                                    episode_id=eid, hint=_DAMAGE_HINT) from None
    return _to_episode(log_steps, header, outcome, path)


def _check_header(header, path: Path, eid: str | None) -> None:
    if not header:
        raise ContractError("log has no rldg metadata (not written by collectors, or damaged)",
                            file=str(path), episode_id=eid)
    if not isinstance(header, dict):
        raise ContractError(f"log metadata is not a mapping: {type(header).__name__}", file=str(path),
                            episode_id=eid, hint=_DAMAGE_HINT)
    missing = [k for k in _HEADER_FIELDS if k not in header]
    if missing:
        raise ContractError(f"log metadata lacks {', '.join(missing)}", file=str(path),
                            episode_id=header.get("episode_id", eid), field=missing[0], hint=_DAMAGE_HINT)


def _check_outcome_file(path: Path, eid: str, length: int, success: bool) -> None:
    """`outcome.json` (written beside the log by the recorder) must agree with the log itself."""
    file = path / OUTCOME_FILE
    if not file.exists():
        return  # logs written by other tools have none
    try:
        recorded = json.loads(file.read_text())
        recorded_length, recorded_success = int(recorded["length"]), bool(recorded["success"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ContractError(f"{OUTCOME_FILE} is unparsable: {exc}", file=str(file), episode_id=eid,
                            hint=_DAMAGE_HINT) from None
    if recorded_length != length:
        raise ContractError(f"the log has {length} steps but {OUTCOME_FILE} says {recorded_length}",
                            file=str(path), episode_id=eid, field="length", hint=_DAMAGE_HINT)
    if recorded_success != success:
        raise ContractError(f"the log says success={success} but {OUTCOME_FILE} says "
                            f"{recorded_success}", file=str(path), episode_id=eid, field="success",
                            hint=_DAMAGE_HINT)


def _to_episode(log_steps, header, outcome, path: Path) -> Episode:
    eid = header["episode_id"]
    n = len(log_steps)
    if n < 2 or not log_steps[-1].timestep.last():
        raise ContractError(f"log of {n} steps does not end with a last timestep", file=str(path),
                            episode_id=eid, hint="the episode was cut short; re-collect it")
    if not isinstance(outcome, dict) or "success" not in outcome:
        raise ContractError("episode metadata (the outcome: success, return, final stage) is missing "
                            "or unparsable", file=str(path), episode_id=eid, field="success",
                            hint=_DAMAGE_HINT)
    _check_outcome_file(path, eid, n, bool(outcome["success"]))
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


def log_spec(roots: Iterable[str | os.PathLike], image_encoding: str = "jpeg",
             skip_damaged: bool = False) -> spec.DatasetSpec:
    """The `DatasetSpec` of the logs under `roots` (from the first one; a builder checks the rest).
    With `skip_damaged`, from the first one that reads."""
    import dataclasses

    roots = list(roots)
    paths = episode_logs(roots)
    if not paths:
        raise DatasetError(f"no completed episode logs under {[str(r) for r in roots]} (a folder "
                           f"`rldg collect --out` wrote holds worker-XXX/ep-NNNNNN/ folders)")
    for path in paths:
        try:
            return dataclasses.replace(read_episode(path).spec(), image_encoding=image_encoding)
        except ContractError:
            if not skip_damaged or path == paths[-1]:
                raise
    raise AssertionError("unreachable")


def logs_fingerprint(roots: Iterable[str | os.PathLike]) -> dict:
    """What a dataset built from `roots` is built from: a hash of every completed episode log's
    path (relative to its root) and the names and sizes of its files, with a readable summary.
    Collecting more episodes, or pointing at other logs, changes it; moving the folder does not."""
    digest = hashlib.sha256()
    roots = [Path(r) for r in roots]
    count = 0
    for root in roots:
        for log_dir in episode_logs([root]):
            count += 1
            digest.update(str(log_dir.relative_to(root) if log_dir != root else ".").encode() + b"\0")
            for f in sorted(p for p in log_dir.rglob("*") if p.is_file()):
                digest.update(f"{f.relative_to(log_dir)}:{f.stat().st_size}\0".encode())
    where = ", ".join(str(r) for r in roots)
    return {"fingerprint": digest.hexdigest(), "episode_logs": count, "log_dirs": [str(r) for r in roots],
            "description": f"{count} episode logs in {where}"}
