"""One pass over a dataset, without decoding images, into the numbers every figure needs.

`collect_dataset_view(path)` reads each episode once with `iter_episodes(decode_images=False)`
(decoding JPEGs is what would make 1,000 episodes slow) and keeps per-episode rows (source,
task, variant, split, outcome, length), per-step actions and states grouped by who acted, action
speed profiles on a normalised time axis, a few still-encoded sample episodes per source whose
frames the episode views decode later, and the dataset's action/state statistics
(`rldg_data.stats`, over the split a trainer uses: the same numbers as `rldg stats` and the loaders). Figures, tables, the terminal summary and the notebooks all
work on the resulting `DatasetView`.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.io.reader import iter_episodes, open_dataset
from rldg_data.stats.accumulators import StatsAccumulator
from rldg_data.stats.dataset import default_split
from rldg_data.validation.validate import DatasetSummary

PROFILE_BINS = 50


@dataclasses.dataclass(frozen=True)
class EpisodeRow:
    """What the dataset-level figures know about one episode."""

    episode_id: str
    dataset_split: str
    source: str
    task: str
    variant: str
    split: str
    success: bool
    length: int
    episode_return: float
    smoothness: float  # mean |a_t - a_{t-1}| over acting steps: lower is smoother
    # steps from the start to the first positive reward (the task done), else the episode length:
    # the cycle time in steps, which differs from `length` when an episode goes on after success
    cycle_steps: int = 0


@dataclasses.dataclass
class DatasetView:
    """Everything the figures of one dataset need, gathered in one pass (see module docstring)."""

    path: str
    name: str
    version: str
    summary: DatasetSummary
    rows: list[EpisodeRow]
    actions: dict[str, np.ndarray]  # step source -> [N, A] actions of acting steps
    states: dict[str, np.ndarray]  # step source -> [N, S] states
    profiles: dict[str, np.ndarray]  # episode source -> [E, PROFILE_BINS] action speed vs. time
    samples: list[Episode]  # a few episodes per source, images still encoded
    action_dim: int
    state_dim: int
    statistics: dict = dataclasses.field(default_factory=dict)  # dataset_statistics.json layout
    statistics_split: Optional[str] = None  # the split statistics were taken over (None: all)
    statistics_accumulator: Optional[StatsAccumulator] = None  # to merge views of several datasets
    # (stage, step source) -> steps with that label / episodes holding such a step: hand-offs show
    # as one episode counted under several sources (a human grasp, then an RL insertion)
    stage_source_steps: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    stage_source_episodes: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    handoffs: int = 0  # episodes whose acting steps have more than one source
    rate: Optional[float] = None  # steps per second (metadata.json `fps`), when the dataset records it

    @property
    def sources(self) -> list[str]:
        """Episode sources present, in the contract's order (unknown ones last)."""
        present = {r.source for r in self.rows}
        known = [s for s in spec.SOURCES if s in present]
        return known + sorted(present - set(known))

    def rows_by(self, key: str) -> dict[str, list[EpisodeRow]]:
        """Episode rows grouped by one EpisodeRow attribute (e.g. 'source', 'variant')."""
        groups: dict[str, list[EpisodeRow]] = collections.defaultdict(list)
        for row in self.rows:
            groups[str(getattr(row, key))].append(row)
        return dict(sorted(groups.items()))

    def all_actions(self) -> np.ndarray:
        parts = [a for a in self.actions.values() if len(a)]
        return np.concatenate(parts) if parts else np.zeros((0, self.action_dim), np.float32)

    def all_states(self) -> np.ndarray:
        parts = [s for s in self.states.values() if len(s)]
        return np.concatenate(parts) if parts else np.zeros((0, self.state_dim), np.float32)


def episode_source(sources: np.ndarray) -> str:
    """The source an episode is filed under: the only one, else 'intervention' if a human stepped
    in, else the source of most steps (ties broken by the contract's order)."""
    values, counts = np.unique(np.asarray(sources, dtype=str), return_counts=True)
    return source_from_counts({str(v): int(c) for v, c in zip(values, counts)})


def source_from_counts(counts: dict[str, int]) -> str:
    """`episode_source` from steps per source ({source: steps}), the rule in one place."""
    if not counts:
        return "unknown"
    if len(counts) == 1:
        return next(iter(counts))
    if spec.SOURCE_INTERVENTION in counts:
        return spec.SOURCE_INTERVENTION
    order = {s: i for i, s in enumerate(spec.SOURCES)}
    return min(counts, key=lambda s: (-counts[s], order.get(s, 99), s))


def median_length(rows) -> float:
    """Median episode length (steps) of `rows`, as every table and figure shows it (numpy's
    median: the mean of the two middle lengths for an even count); 0 for no rows."""
    lengths = [r.length for r in rows]
    return float(np.median(lengths)) if lengths else 0.0


def format_length(value: float) -> str:
    """A median length for a table: whole steps, or .5 when it falls between two."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def acting_steps(episode: Episode) -> slice:
    """Steps whose action was executed: all but the last, which carries the final observation."""
    n = len(episode)
    return slice(0, n - 1 if n > 1 else n)


def speed_profile(actions: np.ndarray, bins: int = PROFILE_BINS) -> np.ndarray:
    """Translation speed (norm of every action dimension but the gripper) resampled onto `bins`
    points of normalised episode time, so episodes of any length can be averaged."""
    actions = np.asarray(actions, np.float32)
    motion = actions[:, :-1] if actions.shape[1] > 1 else actions
    speed = np.linalg.norm(motion, axis=1)
    if len(speed) == 0:
        return np.zeros(bins, np.float32)
    if len(speed) == 1:
        return np.full(bins, speed[0], np.float32)
    x = np.linspace(0.0, 1.0, len(speed))
    return np.interp(np.linspace(0.0, 1.0, bins), x, speed).astype(np.float32)


def smoothness(actions: np.ndarray) -> float:
    """Mean L2 norm of consecutive action differences (0 for fewer than two actions)."""
    actions = np.asarray(actions, np.float32)
    if len(actions) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(actions, axis=0), axis=1).mean())


class _Accumulator:
    """Grows the per-source arrays of a DatasetView, capped at `max_steps` rows per source."""

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.parts: dict[str, list[np.ndarray]] = collections.defaultdict(list)
        self.counts: collections.Counter = collections.Counter()

    def add(self, key: str, values: np.ndarray) -> None:
        room = self.max_steps - self.counts[key]
        if room > 0 and len(values):
            self.parts[key].append(np.asarray(values[:room], np.float32))
            self.counts[key] += min(room, len(values))

    def arrays(self, dim: int) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.zeros((0, dim), np.float32)
                for k, v in sorted(self.parts.items())}


def collect_dataset_view(
    path: str | os.PathLike,
    *,
    samples_per_source: int = 1,
    max_steps_per_source: int = 1_000_000,
    progress: Optional[Callable[[int], None]] = None,
) -> DatasetView:
    """Reads the dataset at `path` once (no image decoding) into a `DatasetView`.

    `samples_per_source` episodes of each source are kept with their encoded frames for the
    episode views; `progress(1)` is called after each episode (the CLI passes a bar's update).
    """
    files = open_dataset(path)
    summary = DatasetSummary(path=str(files.path), name=files.name, version=files.version)
    rows: list[EpisodeRow] = []
    actions, states = _Accumulator(max_steps_per_source), _Accumulator(max_steps_per_source)
    profiles: dict[str, list[np.ndarray]] = collections.defaultdict(list)
    samples: list[Episode] = []
    kept: collections.Counter = collections.Counter()
    stats_split = default_split(list(files.shards))
    stats = StatsAccumulator()
    stage_steps: collections.Counter = collections.Counter()
    stage_episodes: collections.Counter = collections.Counter()
    handoffs = 0
    for dataset_split in files.shards:
        for episode in iter_episodes(files.path, dataset_split, decode_images=False):
            summary.add(episode, dataset_split)
            if stats_split is None or dataset_split == stats_split:
                stats.add_episode(episode)
            source = episode_source(episode.sources)
            acting = acting_steps(episode)
            act = episode.actions[acting]
            rows.append(_row(episode, dataset_split, source, act))
            step_sources = np.asarray(episode.sources[acting], dtype=str)
            all_sources = np.asarray(episode.sources, dtype=str)
            stages = np.asarray(episode.steps.get(spec.STAGE, np.zeros(len(all_sources), np.int32)))
            pairs = collections.Counter(zip(stages.astype(int).tolist(), all_sources.tolist()))
            stage_steps.update(pairs)
            stage_episodes.update(pairs.keys())
            handoffs += len(set(step_sources.tolist())) > 1
            for s in np.unique(step_sources):
                actions.add(str(s), act[step_sources == s])
                states.add(str(s), episode.steps[spec.STATE][acting][step_sources == s])
            profiles[source].append(speed_profile(act))
            if kept[source] < samples_per_source:
                samples.append(episode)
                kept[source] += 1
            if progress:
                progress(1)
    data_spec = files.spec
    action_dim = data_spec.action_dim if data_spec else 0
    state_dim = data_spec.state_dim if data_spec else 0
    return DatasetView(
        path=str(files.path), name=files.name, version=files.version, summary=summary, rows=rows,
        actions=actions.arrays(action_dim), states=states.arrays(state_dim),
        profiles={k: np.stack(v) for k, v in sorted(profiles.items())}, samples=samples,
        action_dim=action_dim, state_dim=state_dim,
        statistics=stats.to_dict() if stats.num_trajectories else {}, statistics_split=stats_split,
        statistics_accumulator=stats, stage_source_steps=stage_steps, stage_source_episodes=stage_episodes,
        handoffs=handoffs, rate=dataset_rate(files.path),
    )


def _row(episode: Episode, dataset_split: str, source: str, acting_actions: np.ndarray) -> EpisodeRow:
    meta = episode.metadata
    return EpisodeRow(
        episode_id=meta.episode_id, dataset_split=dataset_split, source=source, task=meta.task,
        variant=meta.variant, split=meta.split, success=bool(meta.success), length=len(episode),
        episode_return=float(meta.episode_return), smoothness=smoothness(acting_actions),
        cycle_steps=cycle_steps(episode),
    )


def cycle_steps(episode: Episode) -> int:
    """Steps up to and including the first positive reward (when the task was done), else the
    episode's length."""
    rewards = np.asarray(episode.steps.get(spec.REWARD, np.zeros(len(episode))), np.float64)
    done = np.flatnonzero(rewards > 0)
    return int(done[0]) + 1 if len(done) else len(episode)


def dataset_rate(folder) -> Optional[float]:
    """Steps per second recorded in the dataset's TFDS metadata.json (`fps`), or None."""
    import json

    path = Path(folder) / "metadata.json"
    try:
        value = json.loads(path.read_text()).get("fps") if path.is_file() else None
    except (OSError, ValueError):
        return None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
