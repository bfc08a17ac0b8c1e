"""Reward relabels: sparse reward from the episode's outcome, and return-to-go."""

from __future__ import annotations

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode


def relabel_sparse_reward(episode: Episode) -> Episode:
    """Reward 1 on the last step of a successful episode, 0 everywhere else.

    The RLDS alignment puts the final observation on the last step, so the success reward sits
    there; `episode_return` becomes 1.0 or 0.0 to match.
    """
    n = len(episode)
    reward = np.zeros(n, np.float32)
    if episode.metadata.success and n:
        reward[-1] = 1.0
    return episode.replace({spec.REWARD: reward}, episode_return=float(reward.sum()))


def return_to_go(episode: Episode, gamma: float = 1.0) -> np.ndarray:
    """Discounted return from each step to the end: G_t = r_t + gamma * G_{t+1} (float32 [T])."""
    rewards = np.asarray(episode.steps[spec.REWARD], np.float64)
    out = np.empty_like(rewards)
    acc = 0.0
    for t in range(len(rewards) - 1, -1, -1):  # T is small; a scan keeps gamma exact
        acc = rewards[t] + gamma * acc
        out[t] = acc
    return out.astype(np.float32)
