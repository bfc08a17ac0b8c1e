"""The one evaluation loop: a policy acts in a simulator episode until it ends.

Used by the specialist (`trainers.specialist.evaluate`) and the generalist
(`trainers.generalist.evaluate`): the same seed gives the same starting state, and an episode ends
at strict success, termination or truncation (or `max_steps`), so their numbers are comparable.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

import numpy as np


def run_episode(env: Any, act: Callable[[Mapping[str, np.ndarray]], np.ndarray], seed: int, *,
                start_stage: int = 0, reset: Optional[Callable[[int], None]] = None,
                max_steps: Optional[int] = None,
                on_info: Optional[Callable[[Mapping[str, Any]], None]] = None) -> tuple[bool, int]:
    """Runs one episode of `env` with `act`; returns (strict success, steps taken).

    `reset(seed)` resets the policy after the environment; `start_stage` starts a multi-stage task
    at a hand-off state; `max_steps` caps the episode below the task's own limit; `on_info(info)`
    sees each step's info (the generalist's evaluation reads the stage reached from it).
    """
    obs = env.reset(seed=seed, start_stage=start_stage) if start_stage else env.reset(seed=seed)
    if reset is not None:
        reset(seed)
    limit = max_steps or getattr(env, "max_episode_steps", None)
    steps = 0
    while limit is None or steps < limit:
        obs, _, terminated, truncated, info = env.step(act(obs))
        steps += 1
        if on_info is not None:
            on_info(info)
        success = bool(info.get("success", False))
        if terminated or truncated or success:
            return success, steps
    return False, steps
