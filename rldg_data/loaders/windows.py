"""Windows and action chunks of one episode, as index arrays (pure numpy, no I/O).

Step t of a contract episode holds the observation seen before action t; the last step carries the
final observation and a placeholder action, so windows are anchored at t = 0 .. T-2. A window
gathers frames t-window+1 .. t (clipped at 0, padding marked) and actions t .. t+chunk-1 (clipped
at T-2, padding marked), as Octo's `chunk_act_obs` does, but as indices into the episode's arrays
so that each frame is decoded once however many windows use it.
"""

from __future__ import annotations

import numpy as np


def num_anchors(length: int) -> int:
    """How many windows an episode of `length` steps yields (its last step has no real action)."""
    return max(int(length) - 1, 0)


def history_indices(anchors: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices [N, window] for anchors [N], and the mask of real (not padded) frames."""
    offsets = np.arange(-window + 1, 1)
    raw = np.asarray(anchors)[:, None] + offsets[None, :]
    return np.maximum(raw, 0), raw >= 0


def chunk_indices(anchors: np.ndarray, chunk: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Action indices [N, chunk] for anchors [N] of an episode of `length` steps, and the mask of
    real actions (indices past the last real action, T-2, repeat it and are masked)."""
    last = max(int(length) - 2, 0)
    raw = np.asarray(anchors)[:, None] + np.arange(chunk)[None, :]
    return np.minimum(raw, last), raw <= last
