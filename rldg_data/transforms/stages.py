"""Stage labels of multi-stage tasks: from hand-off steps, or from changes of who acted."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode


def stages_from_handoffs(episode: Episode, handoffs: Sequence[int]) -> Episode:
    """Stage k for steps in [handoffs[k-1], handoffs[k]): handoffs are the first steps of stages 1..K."""
    bounds = np.asarray(sorted(handoffs), np.int64)
    stage = np.searchsorted(bounds, np.arange(len(episode)), side="right").astype(np.int32)
    return episode.replace({spec.STAGE: stage})


def stages_from_sources(episode: Episode) -> Episode:
    """A new stage wherever `source` changes (human -> rl -> human gives stages 0, 1, 2)."""
    sources = np.asarray(episode.steps[spec.SOURCE]).astype(str)
    change = np.concatenate([[0], (sources[1:] != sources[:-1]).astype(np.int32)])
    return episode.replace({spec.STAGE: np.cumsum(change).astype(np.int32)})
