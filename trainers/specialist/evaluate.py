"""Evaluation of a policy on a `SimEnv`: strict success rate and steps to success (cycle time).

One function, used for the specialist during training, for the human proxy it is compared with, and
for a loaded checkpoint: the same seeds give the same starting states, so numbers are comparable.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Optional

import numpy as np

from trainers.evaluation import run_episode


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Outcome of `episodes` evaluation episodes."""

    episodes: int
    success_rate: float
    median_steps_to_success: Optional[float]
    mean_steps: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def run_episodes(env: Any, act: Callable, episodes: int, seed: int = 10_000, start_stage: int = 0,
                 reset: Optional[Callable[[int], None]] = None) -> list[tuple[bool, int]]:
    """(success, steps) of `episodes` episodes seeded seed, seed+1, ..."""
    return [run_episode(env, act, seed + i, start_stage=start_stage, reset=reset) for i in range(episodes)]


def summarize(results: list[tuple[bool, int]]) -> Evaluation:
    """The `Evaluation` of (success, steps) pairs from `run_episodes` (possibly several calls')."""
    episodes = len(results)
    wins = [n for ok, n in results if ok]
    return Evaluation(
        episodes=episodes,
        success_rate=len(wins) / episodes,
        median_steps_to_success=float(np.median(wins)) if wins else None,
        mean_steps=float(np.mean([n for _, n in results])),
    )


def evaluate(env: Any, act: Callable, episodes: int, seed: int = 10_000, start_stage: int = 0,
             reset: Optional[Callable[[int], None]] = None) -> Evaluation:
    """Success rate and median steps to success over `episodes` episodes seeded seed, seed+1, ..."""
    return summarize(run_episodes(env, act, episodes, seed, start_stage, reset))


def evaluate_on_env(env: Any, policy: Any, episodes: int, seed: int = 10_000, start_stage: int = 0) -> Evaluation:
    """`evaluate` for an object with the Policy protocol (reset(seed), act(obs))."""
    return evaluate(env, policy.act, episodes, seed, start_stage, reset=policy.reset)
