"""Deterministic episode selection for mixes: never by process order, only by (seed, episode_id).

Each episode gets a 64-bit hash of `seed:episode_id`. A source asked for k episodes keeps its k
smallest hashes (a threshold: hash <= the k-th smallest), so the choice is the same on any runner
and any number of workers, and adding episodes to a source changes the selection minimally.
Weights are turned into exact counts: the largest mix whose proportions equal the weights.
"""

from __future__ import annotations

import hashlib
import math
from typing import Mapping, Optional, Sequence

from rldg_data.errors import RecipeError

NONE_SELECTED = -1
KEEP_ALL = 2 ** 64  # above every hash: the threshold of a source kept whole


def episode_hash(seed: int, episode_id: str, salt: str = "") -> int:
    """A uniform 64-bit integer from (seed, salt, episode_id)."""
    digest = hashlib.sha256(f"{seed}:{salt}:{episode_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def is_val(seed: int, episode_id: str, val_fraction: float) -> bool:
    """Whether an episode goes to the `val` split (an independent hash, so selection is unbiased)."""
    return episode_hash(seed, episode_id, "val") < val_fraction * 2.0 ** 64


def counts_to_take(available: Mapping[str, int], weights: Optional[Mapping[str, float]] = None,
                   counts: Optional[Mapping[str, int]] = None) -> dict[str, int]:
    """Episodes to take per source.

    `counts`: exactly those (RecipeError naming the source if fewer are available). `weights`:
    the largest total T with T * w_i / sum(w) <= available_i for every source, k_i rounded from it.
    Neither: everything available.
    """
    if counts is not None:
        short = [s for s in counts if counts[s] > available.get(s, 0)]
        if short:
            s = short[0]
            raise RecipeError(f"source {s!r}: recipe asks {counts[s]} episodes, only "
                              f"{available.get(s, 0)} pass its filters")
        return {s: int(counts[s]) for s in available}
    if weights is not None:
        total_w = float(sum(weights.values()))
        props = {s: weights[s] / total_w for s in available}
        empty = [s for s in available if available[s] == 0 and props[s] > 0]
        if empty:
            raise RecipeError(f"source {empty[0]!r}: no episode passes its filters, cannot meet its weight")
        total = min(available[s] / props[s] for s in available if props[s] > 0)
        return {s: min(available[s], int(math.floor(total * props[s] + 1e-9))) for s in available}
    return dict(available)


def threshold(sorted_hashes: Sequence[int], k: int) -> int:
    """The largest hash kept when taking the k smallest (NONE_SELECTED for k = 0)."""
    return int(sorted_hashes[k - 1]) if k > 0 else NONE_SELECTED
