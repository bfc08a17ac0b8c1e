"""Who acted how many steps: per-step `source` counts of an episode, and what a relabel removed.

A hand-off episode holds a human segment (the easy stages) and a specialist segment (the
bottleneck); cleaning that removes steps (`pauses.trim_pauses`) must touch only the human one.
These counts are how the mix's card shows it: steps kept and removed per segment, per recipe source.
"""

from __future__ import annotations

import collections

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode


def steps_per_source(episode: Episode) -> dict[str, int]:
    """{step source: number of steps} of one episode (`rl`, `human`, ...), sorted by source."""
    sources = np.asarray(episode.steps[spec.SOURCE]).astype(str)
    return dict(sorted(collections.Counter(sources.tolist()).items()))


def removed_per_source(before: Episode, after: Episode) -> dict[str, int]:
    """{step source: steps in `before` but not in `after`} for every source of `before` (0 where
    nothing was removed), so a card can show that a segment was left whole."""
    kept = steps_per_source(after)
    return {source: n - kept.get(source, 0) for source, n in steps_per_source(before).items()}
