"""`LoaderConfig`: what a training loader makes of an RLDS dataset (windows, chunks, batches).

A frozen dataclass checked where it is built, so a bad value fails before any file is opened.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from rldg_data.errors import LoaderConfigError

NORMALIZATION_TYPES = ("normal", "bounds", "bounds_q99", "none")


@dataclasses.dataclass(frozen=True)
class LoaderConfig:
    """Settings of `RLDSLoader`.

    batch_size: windows per batch.
    window: observation history length (frames t-window+1..t; before the episode start the first
      frame is repeated and `pad_mask` is False there, as in Octo).
    chunk: future actions per window (t..t+chunk-1; past the last real action the last one is
      repeated and `action_pad_mask` is False, as in Octo).
    image_size: frames are resized to this (square) when it differs from the dataset's; None keeps them.
    wrist: also load `observation/wrist_image` (every dataset must have it, unless `pad_to_largest`).
    normalization: "normal" (mean/std), "bounds" (min/max to [-1, 1]), "bounds_q99" (q01/q99 to
      [-1, 1], clipped, as OpenVLA) or "none".
    action_mask: which action dimensions are normalized; None: all but the last (the gripper).
    shuffle: shuffle episodes (a global permutation per epoch: costs no memory, records are read
      by offset) and draw each batch at random from a buffer of at least `window_buffer` windows
      (its memory: about window_buffer x window frames).
    num_workers: threads that read, parse and decode episodes in parallel.
    prefetch_episodes: episodes decoded ahead of the window buffer (bounds memory).
    repeat: loop over epochs forever (training) or stop after one epoch (evaluation, tests).
    drop_last: drop a final short batch (only without repeat).
    per_dataset_normalization: in a mix, normalize each dataset with its own statistics, as Octo
      and OpenVLA do in an Open X-Embodiment mixture (their robots' units differ); default: one set
      of statistics over the whole mix (`statistics` then describes it). Costs one statistics
      pass per dataset at start-up, a few KiB each.
    pad_to_largest: mix datasets of different state/action sizes and cameras as Octo's
      `make_interleaved_dataset` does with `max_action_dim` / `max_proprio_dim` and its camera
      `pad_mask_dict`: states and actions are zero-padded (after normalization) to the largest in
      the mix and batches gain `action_dim_mask` bool [B, A] (True on a dataset's real action
      dimensions); with `wrist`, a dataset without a wrist camera gives black frames and
      `wrist_pad_mask` bool [B, window] is False for them. Datasets of different sizes need
      `per_dataset_normalization` (one set of statistics cannot describe them; `RLDSLoader.statistics`
      is then None) and `image_size`.

    Memory (the knobs that cost it; F = H x W x 3 bytes of one frame at `image_size`, c = cameras
    loaded, 1 or 2; B = `window_buffer`; measured in BENCHMARKS.md "loader" and "mixture"):
    - window buffer: (B + the longest episode's windows) x window x c x F. At 64 px (F = 12 KiB),
      window 2, both cameras: 2048 rows ~ 96 MiB; each 1024 more windows ~ 48 MiB; 128 px: x4.
    - prefetch_episodes: that many decoded episodes, each T x c x F (+ states, actions): 8 episodes
      of 120 steps at 64 px with both cameras ~ 23 MiB; it does not grow with the number of datasets.
    - num_workers: one episode in flight each, parsed but not decoded (its JPEG bytes: ~1-3 KiB a
      frame at 64 px).
    - per_dataset_normalization: a few KiB of statistics per dataset; nothing else grows with the
      number of datasets in a mix but the record index (~100 bytes an episode).
    """

    batch_size: int = 64
    window: int = 2
    chunk: int = 4
    image_size: Optional[int] = None
    wrist: bool = False
    normalization: str = "normal"
    action_mask: Optional[tuple[bool, ...]] = None
    shuffle: bool = True
    window_buffer: int = 2048
    seed: int = 0
    num_workers: int = 2
    prefetch_episodes: int = 8
    repeat: bool = True
    drop_last: bool = False
    per_dataset_normalization: bool = False
    split: str = "train"
    pad_to_largest: bool = False

    def __post_init__(self) -> None:
        for name in ("batch_size", "window", "chunk", "window_buffer", "num_workers", "prefetch_episodes"):
            if int(getattr(self, name)) <= 0:
                raise LoaderConfigError(f"LoaderConfig.{name} must be positive, got {getattr(self, name)}")
        if self.image_size is not None and self.image_size <= 0:
            raise LoaderConfigError(f"LoaderConfig.image_size must be positive, got {self.image_size}")
        if self.normalization not in NORMALIZATION_TYPES:
            raise LoaderConfigError(f"LoaderConfig.normalization must be one of {NORMALIZATION_TYPES}, "
                                    f"got {self.normalization!r}")
        if self.action_mask is not None:
            object.__setattr__(self, "action_mask", tuple(bool(x) for x in self.action_mask))
