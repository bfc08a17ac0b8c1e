"""`train_generalist`: behaviour cloning of action chunks on contract datasets (one or a mix).

Masked L1 on normalized action chunks (padding past an episode's end is not penalized), AdamW
with cosine decay, seeded torch and loader. The checkpoint stores the datasets' statistics, so the
policy un-normalizes its actions with the data it learned from.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from rldg_data.loaders import LoaderConfig, RLDSLoader
from trainers.generalist.config import GeneralistConfig

log = logging.getLogger(__name__)


def train_generalist(datasets: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike,
                     config: GeneralistConfig = GeneralistConfig(), *, weights: Optional[Sequence[float]] = None,
                     progress: Optional[Callable[[int, float], None]] = None, force: bool = False) -> Path:
    """Trains a generalist on `datasets` for `config.steps` steps; returns the checkpoint folder.

    `progress(step, loss)` is called after each step (the CLI passes a progress bar). `out` must be
    new or empty, or with `force` an earlier checkpoint of this command (checked before training).
    """
    import torch

    from rldg_data.io.outputs import check_output
    from trainers.generalist.checkpoint import COMMAND, save_checkpoint
    from trainers.generalist.augment import random_shift
    from trainers.generalist.model import GeneralistNet, hash_tokens, images_of

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    paths = [datasets] if isinstance(datasets, (str, os.PathLike)) else list(datasets)
    check_output(out, COMMAND, force=force, inputs=paths)
    loader = RLDSLoader(paths, LoaderConfig(
        batch_size=config.batch_size, window=config.window, chunk=config.chunk,
        image_size=config.image_size, wrist=config.wrist, normalization=config.normalization,
        seed=config.seed, window_buffer=config.buffer, num_workers=1), weights=weights)
    state_dim = len(loader.statistics["proprio"]["mean"])
    action_dim = len(loader.statistics["action"]["mean"])
    model = GeneralistNet(config, state_dim, action_dim)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    start, losses = time.time(), []
    batches = iter(loader)
    augment_rng = np.random.default_rng([config.seed, 1])
    for step in range(config.steps):
        batch = next(batches)
        tokens, offsets = hash_tokens(batch["language_instruction"], config.lang_buckets)
        images = random_shift(images_of(batch, config.wrist), config.shift, augment_rng)
        pred = model(torch.from_numpy(images), torch.from_numpy(batch["state"]),
                     tokens, offsets)
        mask = torch.from_numpy(batch["action_pad_mask"]).float()[..., None]
        loss = ((pred - torch.from_numpy(batch["action"])).abs() * mask).sum() / (mask.sum() * action_dim)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if progress:
            progress(step + 1, losses[-1])
    elapsed = time.time() - start
    log.info("trained %d steps in %.0f s, final loss %.4f", config.steps, elapsed, np.mean(losses[-50:]))
    return save_checkpoint(out, model, config, loader.statistics, extra={
        "datasets": [str(p) for p in paths], "weights": list(weights) if weights else None,
        "final_loss": float(np.mean(losses[-50:])), "train_seconds": round(elapsed, 1),
        "loss_curve": loss_curve(losses),
        "policy_id": f"generalist:{Path(out).name}"}, force=force, inputs=paths)


def loss_curve(losses: Sequence[float], points: int = 50) -> list[list[float]]:
    """[step, mean loss] at up to `points` evenly spaced steps (means over each stretch)."""
    if not losses:
        return []
    edges = np.linspace(0, len(losses), min(points, len(losses)) + 1).astype(int)
    return [[int(hi), float(np.mean(losses[lo:hi]))] for lo, hi in zip(edges[:-1], edges[1:])]
