"""Hindsight goals: the frame the episode actually reached, as the goal of each of its steps.

The contract has no goal field, so this returns arrays for loaders and goal-conditioned trainers
rather than changing the episode.
"""

from __future__ import annotations

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode


def hindsight_goal_images(episode: Episode, horizon: int | None = None) -> np.ndarray:
    """Goal frame of each step: the final frame, or the frame `horizon` steps later (clipped)."""
    images = episode.steps[spec.IMAGE]
    n = len(images)
    index = np.full(n, n - 1) if horizon is None else np.minimum(np.arange(n) + horizon, n - 1)
    return images[index]
