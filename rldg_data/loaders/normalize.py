"""`Normalizer`: actions and states to and from the normalized space, with dataset statistics.

numpy only (no TensorFlow), so a policy can act with it in a process that renders with MuJoCo EGL:
importing TensorFlow in a process that also creates a MuJoCo EGL context crashes it (seen here).
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from rldg_data.errors import RldgError

STAT_KEYS = ("mean", "std", "min", "max", "p01", "p99", "q01", "q99")


class Normalizer:
    """Normalizes actions and states with dataset statistics (and back, for acting).

    normal: (x - mean) / std; bounds: min/max to [-1, 1]; bounds_q99: q01/q99 to [-1, 1] clipped,
    with dimensions whose min == max set to 0 (OpenVLA's rule); none: unchanged. Dimensions whose
    mask is False (the gripper) pass through unchanged.
    """

    def __init__(self, statistics: Mapping, normalization: str = "normal",
                 action_mask: Optional[Sequence[bool]] = None) -> None:
        self.normalization = normalization
        self.statistics = statistics
        self._stats = {key: {k: np.asarray(v, np.float32) for k, v in statistics[key].items()
                             if k in STAT_KEYS} for key in ("action", "proprio")}
        adim = len(self._stats["action"]["mean"])
        if action_mask is None:
            action_mask = statistics["action"].get("mask") or [True] * (adim - 1) + [False]
        self.masks = {"action": np.asarray(action_mask, bool),
                      "proprio": np.asarray(statistics["proprio"].get("mask") or
                                            [True] * len(self._stats["proprio"]["mean"]), bool)}
        if len(self.masks["action"]) != adim:
            raise RldgError(f"action mask has {len(self.masks['action'])} entries, actions have {adim}")

    def _bounds(self, key):
        s = self._stats[key]
        if self.normalization == "bounds":
            return s["min"], s["max"]
        return s.get("q01", s.get("p01")), s.get("q99", s.get("p99"))

    def normalize(self, values: np.ndarray, key: str) -> np.ndarray:
        """`key` is "action" or "proprio"; values [..., D] -> float32 normalized."""
        values = np.asarray(values, np.float32)
        mask = self.masks[key]
        if self.normalization == "none":
            return values
        s = self._stats[key]
        if self.normalization == "normal":
            out = (values - s["mean"]) / (s["std"] + 1e-8)
        else:
            lo, hi = self._bounds(key)
            out = np.clip(2 * (values - lo) / (hi - lo + 1e-8) - 1, -1, 1)
            out = np.where(s["min"] == s["max"], 0.0, out)
        return np.where(mask, out, values).astype(np.float32)

    def denormalize(self, values: np.ndarray, key: str) -> np.ndarray:
        """Inverse of `normalize` (clipping and zeroed constant dimensions cannot be undone)."""
        values = np.asarray(values, np.float32)
        if self.normalization == "none":
            return values
        s = self._stats[key]
        if self.normalization == "normal":
            out = values * (s["std"] + 1e-8) + s["mean"]
        else:
            lo, hi = self._bounds(key)
            out = (values + 1) / 2 * (hi - lo + 1e-8) + lo
        return np.where(self.masks[key], out, values).astype(np.float32)
