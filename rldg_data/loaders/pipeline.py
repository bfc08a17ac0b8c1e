"""`RLDSLoader`: contract datasets -> shuffled windows -> normalized numpy batches.

The work is split as in Octo (whole-trajectory ops apart from per-frame ones), but each frame is
decoded once per epoch, not once per window that uses it:
1. episode order: a seeded global permutation of record offsets each epoch (no shuffle buffer);
   with `weights`, a seeded weighted draw over datasets instead (a mix, repeated forever);
2. per episode, in a thread pool (order kept, so results are deterministic): read, parse, decode
   frames (PIL releases the GIL), normalize states and actions with the dataset statistics;
3. windows of those episodes go through a small buffer of `window_buffer` windows, drawn at
   random with the seeded generator; batches gather frames and chunks by index.
Memory is bounded by `prefetch_episodes` + the episodes the window buffer refers to.
"""

from __future__ import annotations

import collections
import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Optional, Sequence

import numpy as np
from PIL import Image

from rldg_data import spec
from rldg_data.errors import RldgError
from rldg_data.loaders.config import LoaderConfig
from rldg_data.loaders.records import RecordRef, index_datasets, read_record
from rldg_data.loaders.statistics import Normalizer, dataset_statistics
from rldg_data.loaders.windows import chunk_indices, history_indices, num_anchors
from rldg_data.tfexample import decode_episode

DecodedEpisode = collections.namedtuple(
    "DecodedEpisode", "images wrist_images state action instruction dataset episode_id length")


class RLDSLoader:
    """Iterates numpy batches of windows from one dataset or a mix of several.

    Batch keys: image uint8 [B, window, H, W, 3] (and wrist_image), state float32 [B, window, S],
    pad_mask bool [B, window], action float32 [B, chunk, A], action_pad_mask bool [B, chunk],
    language_instruction str [B], dataset_index int32 [B]. States and actions are normalized.
    """

    def __init__(self, paths: str | os.PathLike | Sequence[str | os.PathLike],
                 config: LoaderConfig = LoaderConfig(), *, statistics: Optional[dict] = None,
                 weights: Optional[Sequence[float]] = None) -> None:
        self.paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        self.config = config
        self.datasets, self.refs = index_datasets(self.paths, config.split)
        if not self.refs:
            raise RldgError(f"no episodes in split {config.split!r} of {self.paths}")
        specs = {(d.spec.image_size, d.spec.state_dim, d.spec.action_dim) for d in self.datasets}
        if len(specs) > 1 and config.image_size is None:
            raise RldgError(f"datasets differ in image/state/action sizes {sorted(specs)}: set image_size "
                            "and mix only datasets with the same state and action sizes")
        if config.wrist and not all(d.spec.wrist for d in self.datasets):
            raise RldgError("LoaderConfig.wrist is set but a dataset has no observation/wrist_image: "
                            + ", ".join(str(d.path) for d in self.datasets if not d.spec.wrist))
        if weights is not None and len(weights) != len(self.paths):
            raise RldgError(f"{len(weights)} weights for {len(self.paths)} datasets")
        self.weights = None if weights is None else np.asarray(weights, np.float64) / np.sum(weights)
        self.statistics = statistics if statistics is not None else dataset_statistics(self.paths, config.split)
        self.normalizer = Normalizer(self.statistics, config.normalization, config.action_mask)
        self._instructions: Optional[list[str]] = None

    @property
    def num_episodes(self) -> int:
        return len(self.refs)

    @property
    def instructions(self) -> list[str]:
        """Sorted language instructions of the datasets (one pass without decoding images)."""
        if self._instructions is None:
            found = set()
            for ref in self.refs:
                ep = decode_episode(read_record(ref), decode_image_fields=False)
                found.update(str(s) for s in np.unique(ep.steps[spec.LANGUAGE_INSTRUCTION]))
            self._instructions = sorted(found)
        return self._instructions

    # ---- 1. episode order -------------------------------------------------------------------
    def episode_order(self, rng: np.random.Generator, shard_of: tuple[int, int] = (0, 1)) -> Iterator[RecordRef]:
        """Record references in the order this loader reads them (worker `i` of `n` takes every n-th)."""
        worker, count = shard_of
        if self.weights is None:
            while True:
                order = rng.permutation(len(self.refs)) if self.config.shuffle else np.arange(len(self.refs))
                yield from (self.refs[i] for i in order[worker::count])
                if not self.config.repeat:
                    return
        by_dataset = [[r for r in self.refs if r.dataset == d] for d in range(len(self.paths))]
        queues = [[] for _ in by_dataset]
        n = 0
        while True:
            d = int(rng.choice(len(by_dataset), p=self.weights))
            if not queues[d]:
                queues[d] = [by_dataset[d][i] for i in rng.permutation(len(by_dataset[d]))]
            ref = queues[d].pop()
            if n % count == worker:
                yield ref
            n += 1

    # ---- 2. per episode: read, parse, decode, normalize -------------------------------------
    def decode(self, ref: RecordRef) -> DecodedEpisode:
        """One episode ready for windowing (frames decoded once, states/actions normalized)."""
        ep = decode_episode(read_record(ref), file=ref.shard, decode_image_fields=False)
        wrist = _decode_frames(ep.steps[spec.WRIST_IMAGE], self.config.image_size) if self.config.wrist else None
        instruction = str(ep.steps[spec.LANGUAGE_INSTRUCTION][0]) if len(ep) else ""
        return DecodedEpisode(
            images=_decode_frames(ep.steps[spec.IMAGE], self.config.image_size),
            wrist_images=wrist,
            state=self.normalizer.normalize(ep.steps[spec.STATE], "proprio"),
            action=self.normalizer.normalize(ep.steps[spec.ACTION], "action"),
            instruction=instruction, dataset=ref.dataset, episode_id=ep.episode_id, length=len(ep))

    def episodes(self, seed: Optional[int] = None, shard_of: tuple[int, int] = (0, 1)) -> Iterator[DecodedEpisode]:
        """Decoded episodes in a deterministic order, decoded `num_workers` at a time."""
        rng = np.random.default_rng(self.config.seed if seed is None else seed)
        order = self.episode_order(rng, shard_of)
        with ThreadPoolExecutor(self.config.num_workers) as pool:
            pending = collections.deque()
            for ref in order:
                pending.append(pool.submit(self.decode, ref))
                if len(pending) >= self.config.prefetch_episodes:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    # ---- 3. windows -> batches --------------------------------------------------------------
    def __iter__(self) -> Iterator[dict]:
        return self.batches()

    def batches(self, seed: Optional[int] = None, shard_of: tuple[int, int] = (0, 1)) -> Iterator[dict]:
        """Batches of windows; with `shuffle`, drawn at random from a buffer of `window_buffer`."""
        cfg = self.config
        seed = cfg.seed if seed is None else seed
        rng = np.random.default_rng([seed, 1])
        buffer: list[tuple[DecodedEpisode, int]] = []
        pending: list[tuple[DecodedEpisode, int]] = []
        for ep in self.episodes(seed, shard_of):
            buffer.extend((ep, t) for t in range(num_anchors(ep.length)))
            while len(buffer) >= (cfg.window_buffer if cfg.shuffle else 1):
                pending.append(_draw(buffer, rng, cfg.shuffle))
                if len(pending) == cfg.batch_size:
                    yield self.collate(pending)
                    pending = []
        while buffer:
            pending.append(_draw(buffer, rng, cfg.shuffle))
            if len(pending) == cfg.batch_size:
                yield self.collate(pending)
                pending = []
        if pending and not cfg.drop_last:
            yield self.collate(pending)

    def collate(self, samples: Sequence[tuple[DecodedEpisode, int]]) -> dict:
        """Gathers frames, states and action chunks of (episode, anchor) samples into one batch."""
        cfg = self.config
        frames, masks, states, actions, action_masks = [], [], [], [], []
        wrist = [] if cfg.wrist else None
        for ep, t in samples:
            hist, hmask = history_indices(np.array([t]), cfg.window)
            chunk, cmask = chunk_indices(np.array([t]), cfg.chunk, ep.length)
            frames.append(ep.images[hist[0]])
            if wrist is not None:
                wrist.append(ep.wrist_images[hist[0]])
            states.append(ep.state[hist[0]])
            actions.append(ep.action[chunk[0]])
            masks.append(hmask[0])
            action_masks.append(cmask[0])
        batch = {
            "image": np.stack(frames), "state": np.stack(states), "pad_mask": np.stack(masks),
            "action": np.stack(actions), "action_pad_mask": np.stack(action_masks),
            "language_instruction": np.asarray([ep.instruction for ep, _ in samples], np.str_),
            "dataset_index": np.asarray([ep.dataset for ep, _ in samples], np.int32),
        }
        if wrist is not None:
            batch["wrist_image"] = np.stack(wrist)
        return batch


def _draw(buffer: list, rng: np.random.Generator, shuffle: bool):
    """Removes and returns one entry: a random one (swap with the last, O(1)) or the oldest."""
    if not shuffle:
        return buffer.pop(0)
    i = int(rng.integers(len(buffer)))
    buffer[i], buffer[-1] = buffer[-1], buffer[i]
    return buffer.pop()


_TF_DECODE = None


def _tf_decoder():
    """A compiled TensorFlow op decoding a whole episode's frames at once (C++ threads, no GIL)."""
    global _TF_DECODE
    if _TF_DECODE is None:
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def decode(blobs):
            return tf.map_fn(lambda b: tf.io.decode_image(b, channels=3, expand_animations=False), blobs,
                             fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
                             parallel_iterations=8)

        _TF_DECODE = decode
    return _TF_DECODE


def _decode_frames(blobs: np.ndarray, size: Optional[int]) -> np.ndarray:
    """Encoded frames -> uint8 [T, H, W, 3], resized (bilinear) to size x size when given."""
    if len(blobs):
        frames = _tf_decoder()(np.asarray(list(blobs), dtype=object)).numpy()
        if size is None or frames.shape[1:3] == (size, size):
            return frames
    frames = []
    for blob in blobs:
        with Image.open(io.BytesIO(blob)) as img:
            img = img.convert("RGB")
            if size is not None and img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            frames.append(np.asarray(img))
    return np.stack(frames) if frames else np.zeros((0, size or 0, size or 0, 3), np.uint8)
