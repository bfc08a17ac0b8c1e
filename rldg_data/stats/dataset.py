"""Action and proprio statistics of one or more datasets, and normalization with them.

`dataset_statistics(paths)` prefers `rldg_data.stats.accumulators.compute_dataset_statistics` (the toolkit's
statistics, written beside the dataset) for a single dataset and falls back to a private numpy pass
(states and actions only: no image is decoded) when that module is missing, gives a layout this
loader does not know, or several datasets are mixed. The layout is Octo's and OpenVLA's:
`{"action": {mean, std, min, max, p01, p99, q01, q99, mask}, "proprio": {...}, "num_transitions",
"num_trajectories"}`. `Normalizer` (normalize.py) applies it to whole trajectories.
"""

from __future__ import annotations

import logging
import os
from typing import Mapping, Optional, Sequence

import numpy as np

from rldg_data.contract import spec
from rldg_data.errors import RldgError
from rldg_data.io.records import index_datasets, read_record
from rldg_data.io.tfexample import decode_episode
from rldg_data.loaders.windows import num_anchors
from rldg_data.loaders.normalize import STAT_KEYS, Normalizer  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)


def dataset_statistics(paths: str | os.PathLike | Sequence[str | os.PathLike], split: str = "train") -> dict:
    """Statistics of the actions and states of `paths` (one dataset or a mix), as a JSON-able dict."""
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if len(paths) == 1:
        found = _toolkit_statistics(paths[0])
        if found is not None:
            return found
    return compute_statistics(paths, split)


def _toolkit_statistics(path) -> Optional[dict]:
    try:
        from rldg_data.stats.accumulators import compute_dataset_statistics
    except ImportError:
        return None
    try:
        stats = compute_dataset_statistics(path)
    except Exception as exc:  # a missing feature of the other module must not stop training
        log.warning("rldg_data.stats.accumulators failed on %s (%r); computing statistics here", path, exc)
        return None
    return _as_layout(stats) if isinstance(stats, Mapping) else None


def _as_layout(stats: Mapping) -> Optional[dict]:
    """The {action, proprio, num_*} part of a statistics mapping, or None if it is not there."""
    proprio = stats.get("proprio", stats.get("state"))
    action = stats.get("action")
    if not (isinstance(action, Mapping) and isinstance(proprio, Mapping)):
        return None
    if not all(k in action and k in proprio for k in ("mean", "std", "min", "max")):
        return None
    out = {"action": dict(action), "proprio": dict(proprio)}
    for key in ("num_transitions", "num_trajectories"):
        if key in stats:
            out[key] = int(stats[key])
    return out


def compute_statistics(paths: Sequence[str | os.PathLike], split: str = "train") -> dict:
    """One numpy pass over the states and actions of `paths` (images stay encoded).

    Actions are taken at the steps that have a real action (all but each episode's last step);
    states at every step. Gripper mask: all action dimensions but the last are normalized.
    """
    _, refs = index_datasets(paths, split)
    actions, states = [], []
    for ref in refs:
        ep = decode_episode(read_record(ref), file=ref.shard, decode_image_fields=False)
        n = num_anchors(len(ep))
        actions.append(ep.steps[spec.ACTION][:n])
        states.append(ep.steps[spec.STATE])
    if not refs:
        raise RldgError(f"no episodes in {', '.join(map(str, paths))}: cannot compute statistics")
    action = np.concatenate(actions).astype(np.float64)
    state = np.concatenate(states).astype(np.float64)
    mask = [True] * action.shape[1]
    mask[-1] = False
    return {
        "action": {**summarize(action), "mask": mask},
        "proprio": {**summarize(state), "mask": [True] * state.shape[1]},
        "num_transitions": int(len(action)),
        "num_trajectories": int(len(refs)),
    }


def summarize(values: np.ndarray) -> dict:
    """mean, std, min, max, p01/p99 (Octo's names) and q01/q99 (OpenVLA's) of rows of `values`."""
    if len(values) == 0:
        values = np.zeros((1, values.shape[1]))
    lo, hi = np.percentile(values, [1, 99], axis=0)
    out = {"mean": values.mean(0), "std": values.std(0), "min": values.min(0), "max": values.max(0),
           "p01": lo, "p99": hi, "q01": lo, "q99": hi}
    return {k: np.asarray(v, np.float64).round(8).tolist() for k, v in out.items()}
