"""`RLDSLoader`: contract datasets -> shuffled windows -> normalized numpy batches.

The work is split as in Octo (whole-trajectory ops apart from per-frame ones), but each frame is
decoded once per epoch, not once per window that uses it:
1. episode order: a seeded global permutation of record offsets each epoch (no shuffle buffer);
   with `weights`, a seeded weighted draw over datasets instead (a mix, repeated forever);
2. per episode, in a thread pool (order kept, so results are deterministic): read (`pread` at
   the record's offset), parse (`io.codec`, protobuf's C parser), decode frames (`io.images`:
   libjpeg-turbo via simplejpeg), normalize states and actions with the statistics;
3. all windows of an episode are gathered at once with index arrays into a `WindowBuffer` of
   preallocated rows; a batch is a seeded random draw of rows (at least `window_buffer` to draw
   from), gathered with one fancy index per field.
Memory is bounded by `prefetch_episodes` decoded episodes + the buffer's rows (`window_buffer` +
one episode's windows, each holding its `window` frames). Nothing here imports TensorFlow (a
torch user's process stays about 400 MiB smaller; tests/rldg_data/loaders/test_no_tf.py).
"""

from __future__ import annotations

import collections
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Optional, Sequence

import numpy as np

from rldg_data.contract import spec
from rldg_data.errors import RldgError
from rldg_data.loaders.buffer import WindowBuffer
from rldg_data.loaders.config import LoaderConfig
from rldg_data.io.images import decode_images
from rldg_data.io.reader import index_datasets
from rldg_data.io.records import RecordRef, read_record
from rldg_data.loaders.normalize import Normalizer
from rldg_data.stats.dataset import dataset_statistics
from rldg_data.io.codec import decode_episode

DecodedEpisode = collections.namedtuple(
    "DecodedEpisode", "images wrist_images state action instruction dataset episode_id length "
    "wrist_present action_dim", defaults=(True, 0))  # action_dim: real dimensions when padded (0: all)


class RLDSLoader:
    """Iterates numpy batches of windows from one dataset or a mix of several.

    Batch keys: image uint8 [B, window, H, W, 3] (and wrist_image), state float32 [B, window, S],
    pad_mask bool [B, window], action float32 [B, chunk, A], action_pad_mask bool [B, chunk],
    language_instruction str [B], dataset_index int32 [B]. States and actions are normalized.
    With `LoaderConfig.pad_to_largest`: also action_dim_mask bool [B, A] and, with `wrist`,
    wrist_pad_mask bool [B, window] (Octo's padding of a mixture; see LoaderConfig).
    """

    def __init__(self, paths: str | os.PathLike | Sequence[str | os.PathLike],
                 config: LoaderConfig = LoaderConfig(), *, statistics: Optional[dict] = None,
                 weights: Optional[Sequence[float]] = None) -> None:
        self.paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        self.config = config
        self.datasets, self.refs = index_datasets(self.paths, config.split)
        if not self.refs:
            raise RldgError(f"no episodes in split {config.split!r} of {self.paths}")
        self._check_sizes(config)
        if weights is not None and len(weights) != len(self.paths):
            raise RldgError(f"{len(weights)} weights for {len(self.paths)} datasets")
        self.weights = None if weights is None else np.asarray(weights, np.float64) / np.sum(weights)
        self.state_dim = max(d.spec.state_dim for d in self.datasets)
        self.action_dim = max(d.spec.action_dim for d in self.datasets)
        heterogeneous = len({(d.spec.state_dim, d.spec.action_dim) for d in self.datasets}) > 1
        if statistics is None and not heterogeneous:
            statistics = dataset_statistics(self.paths, config.split)
        # the mix's one set of statistics and normalizer: None for a padded mix of different sizes
        # (no one set describes it; _check_sizes made sure each dataset then has its own)
        self.statistics = statistics
        self.normalizer = None if heterogeneous else Normalizer(statistics, config.normalization, config.action_mask)
        if config.per_dataset_normalization and len(self.paths) > 1:
            self.normalizers = [Normalizer(dataset_statistics([p], config.split), config.normalization,
                                           config.action_mask) for p in self.paths]
        else:
            self.normalizers = [self.normalizer] * len(self.paths)
        self._instructions: Optional[list[str]] = None

    def _check_sizes(self, config: LoaderConfig) -> None:
        """Clear errors for mixes the config cannot batch together (before any record is read)."""
        images = {d.spec.image_size for d in self.datasets}
        if len(images) > 1 and config.image_size is None:
            raise RldgError(f"datasets differ in image sizes {sorted(images)}: set LoaderConfig.image_size")
        dims = {(d.spec.state_dim, d.spec.action_dim) for d in self.datasets}
        if len(dims) > 1:
            listing = "; ".join(f"{d.path}: state {d.spec.state_dim}, action {d.spec.action_dim}" for d in self.datasets)
            if not config.pad_to_largest:
                raise RldgError(f"datasets differ in state/action sizes ({listing}): set LoaderConfig.pad_to_largest "
                                "to zero-pad them to the largest, as Octo's max_action_dim / max_proprio_dim do")
            if not config.per_dataset_normalization:
                raise RldgError(f"datasets differ in state/action sizes ({listing}): one set of statistics cannot "
                                "describe them; set LoaderConfig.per_dataset_normalization")
        missing = [str(d.path) for d in self.datasets if not d.spec.wrist]
        if config.wrist and missing and not config.pad_to_largest:
            raise RldgError("LoaderConfig.wrist is set but a dataset has no observation/wrist_image: "
                            + ", ".join(missing) + " (LoaderConfig.pad_to_largest gives it black, masked frames)")
        if config.wrist and missing and config.image_size is None:
            raise RldgError("padding a missing wrist camera needs LoaderConfig.image_size (the size of its black "
                            "frames): " + ", ".join(missing))

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
        has_wrist = spec.WRIST_IMAGE in ep.steps
        wrist = None
        if self.config.wrist:
            wrist = (decode_images(ep.steps[spec.WRIST_IMAGE], self.config.image_size) if has_wrist else
                     np.zeros((len(ep), self.config.image_size, self.config.image_size, 3), np.uint8))
        instruction = str(ep.steps[spec.LANGUAGE_INSTRUCTION][0]) if len(ep) else ""
        state = self.normalizers[ref.dataset].normalize(ep.steps[spec.STATE], "proprio")
        action = self.normalizers[ref.dataset].normalize(ep.steps[spec.ACTION], "action")
        real_action_dim = action.shape[1]
        if self.config.pad_to_largest:
            state, action = _pad_dim(state, self.state_dim), _pad_dim(action, self.action_dim)
        return DecodedEpisode(
            images=decode_images(ep.steps[spec.IMAGE], self.config.image_size),
            wrist_images=wrist, state=state, action=action,
            instruction=instruction, dataset=ref.dataset, episode_id=ep.episode_id, length=len(ep),
            wrist_present=has_wrist, action_dim=real_action_dim)

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
        """Batches of windows; with `shuffle`, each drawn at random from at least `window_buffer`."""
        cfg = self.config
        seed = cfg.seed if seed is None else seed
        rng = np.random.default_rng([seed, 1]) if cfg.shuffle else None
        threshold = max(cfg.window_buffer, cfg.batch_size) if cfg.shuffle else cfg.batch_size
        buffer = WindowBuffer(cfg.window, cfg.chunk, cfg.wrist, reserve=threshold, masks=cfg.pad_to_largest)
        for ep in self.episodes(seed, shard_of):
            buffer.add(ep)
            while len(buffer) >= threshold:
                yield buffer.draw(cfg.batch_size, rng)
        while len(buffer) >= cfg.batch_size:
            yield buffer.draw(cfg.batch_size, rng)
        if len(buffer) and not cfg.drop_last:
            yield buffer.draw(len(buffer), rng)


def _pad_dim(values: np.ndarray, size: int) -> np.ndarray:
    """[T, d] -> [T, size] with zeros after the d real dimensions (Octo's pad_actions_and_proprio)."""
    if values.shape[1] == size:
        return values
    out = np.zeros((values.shape[0], size), values.dtype)
    out[:, :values.shape[1]] = values
    return out
