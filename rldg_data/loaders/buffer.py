"""`WindowBuffer`: the windows of decoded episodes as rows of preallocated arrays, drawn by batch.

Adding an episode gathers all of its windows at once with the index arrays of windows.py (one
fancy index per field, no per-window Python) into free rows; drawing a batch picks rows (at random
or oldest first) and gathers each field with one fancy index. Rows are reused as soon as they are
drawn, so memory is fixed by the most windows ever held (the draw threshold plus one episode's
windows), not by how many episodes those windows came from. Pure numpy, no I/O.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from rldg_data.errors import RldgError
from rldg_data.loaders.windows import chunk_indices, history_indices, num_anchors


class WindowBuffer:
    """Windows (`window` frames of history, `chunk` actions) of episodes, held until drawn.

    Episodes are `DecodedEpisode`s (pipeline.py): images [T, H, W, 3], state [T, S] and action
    [T, A] already normalized, instruction, dataset. A drawn batch has the keys of `RLDSLoader`.
    """

    def __init__(self, window: int, chunk: int, wrist: bool = False, reserve: int = 0, masks: bool = False) -> None:
        """`reserve`: rows to allocate up front besides the first episode's (the draw threshold);
        `masks`: also keep `action_dim_mask` (and `wrist_pad_mask` with `wrist`) for padded mixes."""
        self.window, self.chunk, self.wrist, self.masks = int(window), int(chunk), bool(wrist), bool(masks)
        self.reserve = int(reserve)
        self._fields: Optional[dict[str, np.ndarray]] = None
        self._live = np.zeros(0, np.int64)  # rows holding windows, oldest first
        self._free = np.zeros(0, np.int64)  # rows free for reuse

    def __len__(self) -> int:
        return len(self._live)

    @property
    def capacity(self) -> int:
        """Rows allocated (grows only when an episode does not fit in the free rows)."""
        return len(self._live) + len(self._free)

    def add(self, episode) -> int:
        """Gathers every window of `episode` into the buffer; returns how many it added."""
        n = num_anchors(episode.length)
        if n == 0:
            return 0
        anchors = np.arange(n)
        hist, hmask = history_indices(anchors, self.window)
        chunk, cmask = chunk_indices(anchors, self.chunk, episode.length)
        windows = {
            "image": episode.images[hist], "state": episode.state[hist], "pad_mask": hmask,
            "action": episode.action[chunk], "action_pad_mask": cmask,
            "language_instruction": np.full(n, episode.instruction, object),
            "dataset_index": np.full(n, episode.dataset, np.int32),
        }
        if self.wrist:
            windows["wrist_image"] = episode.wrist_images[hist]
        if self.masks:
            real = episode.action_dim or episode.action.shape[1]
            windows["action_dim_mask"] = np.broadcast_to(np.arange(episode.action.shape[1]) < real,
                                                         (n, episode.action.shape[1]))
            if self.wrist:
                windows["wrist_pad_mask"] = np.full((n, self.window), bool(episode.wrist_present))
        rows = self._allocate(n, windows, episode)
        for key, values in windows.items():
            self._fields[key][rows] = values
        self._live = np.concatenate([self._live, rows])
        return n

    def draw(self, count: int, rng: Optional[np.random.Generator] = None) -> dict:
        """Removes `count` windows and returns them as a batch: random ones (without replacement,
        in random order) with `rng`, else the oldest in the order they were added."""
        count = min(int(count), len(self._live))
        if rng is None:
            picked, self._live = self._live[:count], self._live[count:]
        else:
            positions = rng.choice(len(self._live), count, replace=False)
            picked = self._live[positions]
            keep = np.ones(len(self._live), bool)
            keep[positions] = False
            self._live = self._live[keep]
        batch = {key: field[picked] for key, field in self._fields.items()}
        batch["language_instruction"] = batch["language_instruction"].astype(np.str_)
        self._free = np.concatenate([self._free, picked])
        return batch

    def _allocate(self, n: int, windows: dict, episode) -> np.ndarray:
        """`n` free rows; when too few are free, every field grows (first to `reserve` + n rows)."""
        if self._fields is None:
            self._fields = {k: np.zeros((0,) + v.shape[1:], v.dtype) for k, v in windows.items()}
        for key, values in windows.items():
            if values.shape[1:] != self._fields[key].shape[1:]:
                raise RldgError(f"episode {episode.episode_id!r} of dataset #{episode.dataset}: {key} "
                                f"windows have shape {values.shape[1:]}, earlier ones "
                                f"{self._fields[key].shape[1:]}; set LoaderConfig.image_size and mix "
                                "only datasets with the same state and action sizes")
        if len(self._free) < n:
            old = self.capacity
            new = old + n - len(self._free)
            new = self.reserve + n if old == 0 else max(new, old + old // 4)
            for key, field in self._fields.items():
                grown = np.zeros((new,) + field.shape[1:], field.dtype)
                grown[:old] = field
                self._fields[key] = grown
            self._free = np.concatenate([self._free, np.arange(old, new)])
        rows, self._free = self._free[:n], self._free[n:]
        return rows
