"""Recording one episode of a dm_env environment into its own envlogger (Riegeli) log folder.

Each episode is written by a fresh `envlogger.EnvLogger` into a hidden `.<name>.partial` folder;
when the episode has ended and the logger is closed (every Riegeli file flushed and finalised),
the folder is renamed to `<name>`. The rename is the commit: a process killed mid-episode (even by
SIGKILL) leaves only a `.partial` folder, which readers ignore, and every renamed folder is a
complete, readable log. envlogger alone does not give this: with several episodes in one shard a
killed writer leaves a wrong episode index (seen on envlogger 1.2: the last complete episode and
the partial one read back as one).

Per step the log carries `{"action_source", "stage"}` as envlogger custom data: `action_source`
says who chose the action that led to this timestep (envlogger pairs each timestep with the action
before it), `stage` is the task stage of this timestep's observation. The static episode metadata
(episode id, task, variant, split, policy id, seed, language instruction) is the log's metadata;
the outcome (success, return, length, final stage) is envlogger's episode metadata.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import os
import resource
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np

from rldg_data.compat import patch_numpy_for_envlogger
from rldg_data.errors import RldgError
from rldg_data.io.atomic import durable, fsync_dir, fsync_tree

log = logging.getLogger(__name__)

METADATA_KEY = "rldg"
PARTIAL_SUFFIX = ".partial"
OUTCOME_FILE = "outcome.json"  # written beside each committed log: its outcome, readable without envlogger


@dataclasses.dataclass(frozen=True)
class EpisodeHeader:
    """What is known of an episode before it starts (recorded as the log's metadata)."""

    episode_id: str
    task: str
    variant: str
    split: str
    policy_id: str
    seed: int
    language_instruction: str = ""


@dataclasses.dataclass(frozen=True)
class EpisodeOutcome:
    """How a recorded episode ended."""

    path: Path
    episode_id: str
    length: int  # RLDS steps, the final observation included
    success: bool
    episode_return: float
    sources: tuple[str, ...]


def quiet_envlogger() -> None:
    """Patches numpy for envlogger 1.2 and silences its C++ INFO lines ("Empty steps, nothing to
    do") unless the user set GLOG_minloglevel; call before importing envlogger."""
    os.environ.setdefault("GLOG_minloglevel", "1")
    patch_numpy_for_envlogger()


def step_info(env) -> Mapping[str, Any]:
    """The `info` dict of the last step (`success`, `stage`) of a dm_env adapter, if it keeps one.

    Looks for `last_info` (or `info`) on the environment and on the environment it wraps
    (`sim_env`, `env`, `_env`, `environment`, `_environment`); an environment without one is a
    single-stage task whose success is a termination with positive reward.
    """
    seen = set()
    stack = [env]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        for name in ("last_info", "info"):
            value = getattr(obj, name, None)
            if isinstance(value, Mapping):
                return value
        stack.extend(getattr(obj, n, None) for n in ("sim_env", "env", "_env", "environment", "_environment"))
    return {}


class _KeepOpen:
    """A dm_env proxy whose `close()` does nothing: closing an episode's logger keeps the env."""

    def __init__(self, env) -> None:
        self._env = env

    def __getattr__(self, name):
        return getattr(self._env, name)

    def reset(self):
        return self._env.reset()

    def step(self, action):
        return self._env.step(action)

    def observation_spec(self):
        return self._env.observation_spec()

    def action_spec(self):
        return self._env.action_spec()

    def reward_spec(self):
        return self._env.reward_spec()

    def discount_spec(self):
        return self._env.discount_spec()

    def close(self) -> None:
        pass


def reseed(env, seed: int) -> None:
    """Makes the next `reset()` of `env` start from `seed`, if the environment allows it
    (a `seed(seed)` method on it or on the simulator it wraps)."""
    for obj in (env, getattr(env, "sim_env", None), getattr(env, "_env", None)):
        fn = getattr(obj, "seed", None)
        if callable(fn):
            fn(seed)
            return


def record_episode(
    env,
    actor,
    folder: str | os.PathLike,
    name: str,
    header: EpisodeHeader,
    info_fn: Callable[[Any], Mapping[str, Any]] = step_info,
    max_steps: Optional[int] = None,
    seed_fn: Optional[Callable[[int], None]] = None,
    step_extras_fn: Optional[Callable[[], Mapping[str, Any]]] = None,
    outcome_extras_fn: Optional[Callable[[], Mapping[str, Any]]] = None,
    verify: Optional[Callable[[Path], int]] = None,
) -> EpisodeOutcome:
    """Runs one episode of `env` with `actor` and records it as `folder/name` (atomically).

    `actor.act(observation, stage)` returns (action, source). `seed_fn(seed)` makes the next reset
    start from the episode's seed (default: `reseed`). `max_steps` is a safety net for
    environments without a time limit: reaching it raises RuntimeError and commits nothing.
    `step_extras_fn()` adds fields to each step's custom data (e.g. the policy's proposal beside
    an intervention); `outcome_extras_fn()` adds numbers to the episode metadata and outcome.json
    (e.g. a robot loop's overruns). `verify(folder)` reads the finished log back and returns its
    step count before the commit (`check_written`: a full disk can truncate a log silently).
    """
    quiet_envlogger()
    import envlogger

    folder = Path(folder)
    final = folder / name
    partial = folder / f".{name}{PARTIAL_SUFFIX}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    state = {"source": "", "stage": 0, "success": False, "return": 0.0}

    def on_step(timestep, action, _env):
        info = info_fn(env) if action is not None else {}
        state["stage"] = int(info.get("stage", 0 if action is None else state["stage"]))
        if action is not None:
            reward = float(timestep.reward or 0.0)
            state["return"] += reward
            default_success = timestep.last() and timestep.discount == 0.0 and reward > 0
            state["success"] = bool(info.get("success", default_success))
        data = {"action_source": state["source"], "stage": np.int32(state["stage"])}
        return {**data, **step_extras_fn()} if step_extras_fn else data

    def on_episode(timestep, action, _env):
        if not timestep.last():
            return None
        meta = {"success": state["success"], "episode_return": np.float64(state["return"]),
                "final_stage": np.int32(state["stage"])}
        return {**meta, **(outcome_extras_fn() if outcome_extras_fn else {})}

    sources = []
    try:
        with envlogger.EnvLogger(_KeepOpen(env), data_directory=str(partial),
                                 metadata={METADATA_KEY: dataclasses.asdict(header)},
                                 step_fn=on_step, episode_fn=on_episode,
                                 max_episodes_per_file=1, flush_scheduler=lambda data: False) as logged:
            (seed_fn or (lambda s: reseed(env, s)))(header.seed)
            actor.reset(header.seed)
            timestep = logged.reset()
            while not timestep.last():
                if max_steps is not None and len(sources) >= max_steps:
                    raise RuntimeError(f"episode {header.episode_id!r} reached max_steps={max_steps} "
                                       f"without ending; is the environment missing a time limit?")
                action, source = actor.act(timestep.observation, state["stage"])
                state["source"] = source
                sources.append(source)
                timestep = logged.step(action)
        outcome = EpisodeOutcome(final, header.episode_id, len(sources) + 1, state["success"],
                                 state["return"], tuple(sources))
        # A small JSON beside the log, so that counting outcomes needs no envlogger/Riegeli decoding.
        (partial / OUTCOME_FILE).write_text(json.dumps(
            {"episode_id": outcome.episode_id, "length": outcome.length, "success": outcome.success,
             "episode_return": outcome.episode_return, "task": header.task, "variant": header.variant,
             "policy_id": header.policy_id, "seed": header.seed,
             **({k: _plain(v) for k, v in outcome_extras_fn().items()} if outcome_extras_fn else {})},
            sort_keys=True))
        if verify is not None:
            check_written(partial, verify, len(sources) + 1)
    except BaseException:  # a failed episode leaves nothing; finished ones are untouched
        shutil.rmtree(partial, ignore_errors=True)
        raise
    # The commit, durable: the log's files and the folder's entries reach the disk before the
    # episode counts as finished (a power cut cannot leave a named but empty log).
    if durable():
        fsync_tree(partial)
    os.replace(partial, final)  # only complete, closed logs carry their final name
    if durable():
        fsync_dir(folder)
    log.debug("recorded %s (%d steps)", final, len(sources) + 1)
    return outcome


def check_written(partial: Path, verify: Callable[[Path], int], expected: int) -> None:
    """Reads the log back (`verify` returns its step count) before it is committed: a writer that
    hits a full disk or the file-size limit can close a truncated Riegeli file without an error
    (seen with envlogger 1.2 under RLIMIT_FSIZE: steps.riegeli cut at the limit, exit 0). A short
    or unreadable log raises OSError(EFBIG / ENOSPC) when the limit or the disk explains it."""
    try:
        got, problem = verify(partial), None
    except Exception as exc:  # noqa: BLE001 - an unreadable log: classified below
        got, problem = -1, exc
    if got == expected:
        return
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    sizes = [p.stat().st_size for p in partial.rglob("*") if p.is_file()]
    if limit != resource.RLIM_INFINITY and any(size >= limit for size in sizes):
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(partial))
    disk = os.statvfs(partial)
    if disk.f_bavail * disk.f_frsize < 1 << 20:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(partial))
    raise RldgError(f"{partial}: the episode log reads back {'unreadable' if problem else got} "
                    f"({problem or f'{got} of {expected} steps'}); not committed")


def _plain(value):
    """numpy scalars as JSON numbers."""
    return value.item() if isinstance(value, np.generic) else value


def read_outcomes(root: str | os.PathLike) -> list[dict]:
    """The `outcome.json` of every committed episode log under `root` (sorted by path)."""
    return [json.loads(p.read_text()) for p in sorted(Path(root).rglob(OUTCOME_FILE))
            if not p.parent.name.endswith(PARTIAL_SUFFIX) and not p.parent.name.startswith(".")]
