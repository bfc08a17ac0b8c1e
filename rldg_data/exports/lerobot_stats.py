"""Statistics in LeRobot's convention (`meta/stats.json` and the `stats/...` episode columns).

LeRobot (`compute_stats.py`) computes per episode, per feature: min, max, mean, std, count and the
quantiles q01, q10, q50, q90, q99 (read off a 5000-bin histogram between the episode's min and
max, interpolated inside the bin); images are sampled (about 100 frames an episode), reduced per
channel, divided by 255 and shaped (3, 1, 1). Episodes merge with one rule (`aggregate_stats`):
count-weighted mean and variance, min of mins, max of maxes, the min of the per-episode quantiles
up to q50 and the max above. This module does the same, incrementally (bounded memory), so a
LeRobot user normalises our export exactly as one of their own datasets. It is a file-format
writer, not a second statistics path of the toolkit (`rldg_data.stats` owns Octo/OpenVLA's).
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QUANTILE_KEYS = tuple(f"q{int(round(q * 100)):02d}" for q in QUANTILES)
NUM_BINS = 5000
STAT_KEYS = ("min", "max", "mean", "std", "count", *QUANTILE_KEYS)


def num_image_samples(length: int, lo: int = 100, hi: int = 10_000, power: float = 0.75) -> int:
    """How many frames of an episode LeRobot samples for image statistics."""
    lo = min(lo, length)
    return max(lo, min(int(length ** power), hi))


def sample_indices(length: int) -> np.ndarray:
    return np.round(np.linspace(0, length - 1, num_image_samples(length))).astype(int)


def _histogram_quantile(hist: np.ndarray, edges: np.ndarray, target: float) -> float:
    cumsum = np.cumsum(hist)
    idx = int(np.searchsorted(cumsum, target))
    if idx == 0:
        return float(edges[0])
    if idx >= len(cumsum):
        return float(edges[-1])
    before = cumsum[idx - 1]
    inside = cumsum[idx] - before
    if inside == 0:
        return float(edges[idx])
    return float(edges[idx] + (target - before) / inside * (edges[idx + 1] - edges[idx]))


def _vector_stats(values: np.ndarray, count: int) -> dict[str, np.ndarray]:
    """Stats of `values` [N, D] per column D (the LeRobot per-episode rule)."""
    values = values.astype(np.float64, copy=False)
    n = values.shape[0]
    mean = values.mean(axis=0)
    out = {"min": values.min(axis=0), "max": values.max(axis=0), "mean": mean,
           "std": np.sqrt(np.maximum(0.0, (values ** 2).mean(axis=0) - mean ** 2)),
           "count": np.array([count], np.int64)}
    if n < 2:
        out["std"] = values.std(axis=0)
        for key in QUANTILE_KEYS:
            out[key] = mean.copy()
        return out
    quantiles = {key: np.empty(values.shape[1]) for key in QUANTILE_KEYS}
    for d in range(values.shape[1]):
        edges = np.linspace(out["min"][d] - 1e-10, out["max"][d] + 1e-10, NUM_BINS + 1)
        hist, _ = np.histogram(values[:, d], bins=edges)
        for q, key in zip(QUANTILES, QUANTILE_KEYS):
            quantiles[key][d] = _histogram_quantile(hist, edges, q * n)
    out.update(quantiles)
    return out


def feature_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Stats of one numeric frame feature over an episode: [N] or [N, D] -> arrays of shape [D]."""
    values = np.asarray(values)
    if values.dtype == np.bool_:
        values = values.astype(np.float32)
    column = values.reshape(len(values), -1)
    return _vector_stats(column, len(values))


def image_stats(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel stats of an episode's uint8 frames [N, H, W, 3], sampled and scaled to [0, 1],
    each of shape (3, 1, 1); `count` is the number of sampled frames.

    Computed from the 256-value histogram of each channel (one `bincount`), which gives LeRobot's
    min, max, mean, std and histogram quantiles of the same pixels without a float copy of them."""
    sampled = frames[sample_indices(len(frames))]
    h, w = sampled.shape[1:3]
    if max(h, w) >= 300:  # LeRobot's auto_downsample_height_width: to about 150 px
        step = int((w if w > h else h) / 150)
        sampled = sampled[:, ::step, ::step]
    channels = sampled.shape[-1]
    counts = _channel_histograms(sampled)
    values = np.arange(256, dtype=np.float64)
    n = counts.sum(axis=1)
    mean = counts @ values / n
    raw = {"min": np.array([np.flatnonzero(c)[0] for c in counts], np.float64),
           "max": np.array([np.flatnonzero(c)[-1] for c in counts], np.float64),
           "mean": mean, "std": np.sqrt(np.maximum(0.0, counts @ values ** 2 / n - mean ** 2)),
           "count": np.array([len(sampled)], np.int64)}
    for key in QUANTILE_KEYS:
        raw[key] = np.empty(channels)
    for c in range(channels):
        edges = np.linspace(raw["min"][c] - 1e-10, raw["max"][c] + 1e-10, NUM_BINS + 1)
        present = np.flatnonzero(counts[c])
        hist = np.zeros(NUM_BINS)
        where = np.clip(np.searchsorted(edges, present.astype(np.float64), side="right") - 1, 0, NUM_BINS - 1)
        np.add.at(hist, where, counts[c, present])
        for q, key in zip(QUANTILES, QUANTILE_KEYS):
            raw[key][c] = _histogram_quantile(hist, edges, q * n[c])
    if n.min() < 2:  # LeRobot's rule for fewer than two values: quantiles are the mean
        for key in QUANTILE_KEYS:
            raw[key] = mean.copy()
    return {k: (v if k == "count" else (v / 255.0).reshape(-1, 1, 1)) for k, v in raw.items()}


def _channel_histograms(frames: np.ndarray) -> np.ndarray:
    """[C, 256] counts of each uint8 value per channel (PIL's C histogram of the stacked frames)."""
    from PIL import Image

    n, h, w, c = frames.shape
    if c != 3:
        flat = frames.reshape(-1, c).astype(np.int64) + 256 * np.arange(c)
        return np.bincount(flat.ravel(), minlength=256 * c).reshape(c, 256).astype(np.float64)
    tall = np.ascontiguousarray(frames).reshape(n * h, w, 3)
    return np.asarray(Image.fromarray(tall, mode="RGB").histogram(), np.float64).reshape(3, 256)


def merge(a: Optional[Mapping[str, np.ndarray]], b: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """LeRobot's aggregate of two feature stats (associative: merge episode by episode)."""
    if a is None:
        return dict(b)
    ca, cb = float(a["count"][0]), float(b["count"][0])
    total = ca + cb
    mean = (a["mean"] * ca + b["mean"] * cb) / total
    var = ((a["std"] ** 2 + (a["mean"] - mean) ** 2) * ca + (b["std"] ** 2 + (b["mean"] - mean) ** 2) * cb) / total
    out = {"min": np.minimum(a["min"], b["min"]), "max": np.maximum(a["max"], b["max"]),
           "mean": mean, "std": np.sqrt(var), "count": np.array([int(ca + cb)], np.int64)}
    for key in QUANTILE_KEYS:
        pick = np.minimum if int(key[1:]) <= 50 else np.maximum
        out[key] = pick(a[key], b[key])
    return out


class LeRobotStatsAccumulator:
    """Dataset stats built episode by episode: `add(episode_stats)`, then `to_json()`."""

    def __init__(self) -> None:
        self.stats: dict[str, dict[str, np.ndarray]] = {}

    def add(self, episode_stats: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        for key, value in episode_stats.items():
            self.stats[key] = merge(self.stats.get(key), value)

    def to_json(self) -> dict:
        return to_json(self.stats)


def to_json(stats: Mapping[str, Mapping[str, np.ndarray]]) -> dict:
    """Nested lists, as LeRobot's `serialize_dict` writes stats.json."""
    return {key: {k: np.asarray(v).tolist() for k, v in value.items()} for key, value in stats.items()}


def episode_columns(episode_stats: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, list]:
    """The flattened `stats/<feature>/<stat>` columns of one episode's row in meta/episodes."""
    return {f"stats/{key}/{k}": np.asarray(v).tolist()
            for key, value in episode_stats.items() for k, v in value.items()}
