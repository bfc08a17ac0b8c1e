"""Episode filters: predicates `Episode -> bool`, True to keep the episode.

Each is a plain function of one episode (plus parameters), so a recipe's filter list is just
`all(f(episode) for f in filters)`; none decodes or touches images.
"""

from __future__ import annotations

from typing import Collection, Optional

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode


def success_only(episode: Episode) -> bool:
    """Keeps episodes whose metadata says they succeeded."""
    return bool(episode.metadata.success)


def length_between(episode: Episode, min_length: Optional[int] = None,
                   max_length: Optional[int] = None) -> bool:
    """Keeps episodes with min_length <= number of steps <= max_length (None: no bound)."""
    n = len(episode)
    return (min_length is None or n >= min_length) and (max_length is None or n <= max_length)


def actions_within(episode: Episode, bound: float = 1.0) -> bool:
    """Keeps episodes whose every action component is finite and within [-bound, bound]."""
    actions = np.asarray(episode.steps[spec.ACTION])
    return bool(np.isfinite(actions).all() and (np.abs(actions) <= bound).all())


def metadata_in(episode: Episode, field: str, allowed: Collection[str]) -> bool:
    """Keeps episodes whose metadata `field` (task, variant, split, policy_id) is in `allowed`."""
    return str(getattr(episode.metadata, field)) in set(allowed)


def step_sources_in(episode: Episode, allowed: Collection[str]) -> bool:
    """Keeps episodes in which every step's `source` is one of `allowed` (e.g. only `rl`)."""
    return bool(np.isin(np.asarray(episode.steps[spec.SOURCE]).astype(str), list(allowed)).all())
