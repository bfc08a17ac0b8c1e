"""Deduplication by `episode_id`: the first occurrence wins, order is kept."""

from __future__ import annotations

from typing import Iterable, Iterator

from rldg_data.contract.episode import Episode


def dedup_by_id(episodes: Iterable[Episode]) -> Iterator[Episode]:
    """Yields each episode whose id was not seen before (ids only are kept in memory)."""
    seen: set[str] = set()
    for episode in episodes:
        if episode.episode_id not in seen:
            seen.add(episode.episode_id)
            yield episode
