"""Demonstrations for the specialist's demo buffer: from a contract RLDS dataset, or collected live.

Both give `DemoEpisode`s (privileged-state observations in RLDS alignment, actions, outcome); the
trainer turns them into transitions with `replay.episode_transitions`, relabeling the reward from
the outcome so demonstrations and online data share one reward definition.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any, Iterator, Optional

import numpy as np

from rldg_data.contract import spec
from rldg_data.errors import ContractError, DatasetError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DemoEpisode:
    """obs: [T, obs_dim] (last row = final observation); actions: [T, action_dim] (last unused)."""

    obs: np.ndarray
    actions: np.ndarray
    success: bool
    episode_id: str = ""

    @property
    def steps(self) -> int:
        return len(self.obs) - 1


def load_demos(path: str | os.PathLike, task: str = "", variant: str = "", limit: Optional[int] = None,
               successful_only: bool = True) -> list[DemoEpisode]:
    """Episodes of a contract dataset with `observation/privileged_state`, for one task variant.

    Episodes whose metadata names another task or variant are skipped (empty metadata matches), as
    are failed ones when `successful_only`. ContractError if the dataset has no privileged state.
    """
    from rldg_data.io.reader import iter_episodes

    found = []
    for episode in iter_episodes(path, decode_images=False, validate=False):
        meta = episode.metadata
        if (task and meta.task and meta.task != task) or (variant and meta.variant and meta.variant != variant):
            continue
        if successful_only and not meta.success:
            continue
        if spec.PRIVILEGED_STATE not in episode.steps:
            raise ContractError("a specialist learns from privileged state; this dataset has none",
                                file=str(path), episode_id=episode.episode_id, field=spec.PRIVILEGED_STATE,
                                hint="record demonstrations in simulation with privileged_dim > 0")
        found.append(DemoEpisode(np.asarray(episode.steps[spec.PRIVILEGED_STATE], np.float32),
                                 np.asarray(episode.actions, np.float32), bool(meta.success),
                                 episode.episode_id))
        if limit is not None and len(found) >= limit:
            break
    if not found:
        raise DatasetError(f"{path}: no {'successful ' if successful_only else ''}episodes of task "
                           f"{task!r} variant {variant!r} with privileged state to use as demonstrations")
    log.info("loaded %d demonstrations from %s", len(found), path)
    return found


def collect_demos(env: Any, demonstrator: Any, count: int, seed: int = 0, start_stage: int = 0,
                  max_attempts: Optional[int] = None) -> list[DemoEpisode]:
    """Rolls out `demonstrator` until `count` successful episodes (at most 3x attempts)."""
    found: list[DemoEpisode] = []
    attempts = max_attempts if max_attempts is not None else 3 * count
    for i, episode in enumerate(_rollouts(env, demonstrator, seed, start_stage)):
        if episode.success:
            found.append(episode)
        if len(found) >= count or i + 1 >= attempts:
            break
    log.info("collected %d/%d successful demonstrations", len(found), count)
    return found


def _rollouts(env: Any, demonstrator: Any, seed: int, start_stage: int) -> Iterator[DemoEpisode]:
    k = 0
    while True:
        s = seed + k
        obs = env.reset(seed=s, start_stage=start_stage) if start_stage else env.reset(seed=s)
        demonstrator.reset(seed=s)
        observations, actions, success = [obs["privileged_state"]], [], False
        while True:
            action = np.asarray(demonstrator.act(obs), np.float32)
            obs, _, terminated, truncated, info = env.step(action)
            actions.append(action)
            observations.append(obs["privileged_state"])
            success = bool(info.get("success", False))
            if terminated or truncated or success:
                break
        actions.append(np.zeros_like(actions[-1]))
        yield DemoEpisode(np.asarray(observations, np.float32), np.asarray(actions, np.float32),
                          success, f"demo-{s}")
        k += 1
