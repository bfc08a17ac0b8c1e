"""Where a generalist training step's time goes: the real trainer (`train_generalist`: loader,
augmentation, model, AdamW) vs a bare PyTorch loop of the same model and batch on tensors already
in memory (the floor), vs the loader alone (batches + random shift + language tokens, no model).
One torch thread, as the demo trains (two trainers at once on 2 cores). Each measurement runs in
a fresh process, rounds interleaved; rates are the mean of the rounds with a 95% t-interval.

    .venv/bin/python benchmarks/bench_generalist_step.py [--steps 150] [--rounds 3] [--window 1]
        [--channels 16,32,64,64]   (the small demo profile trains 8,16,32,64)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from t_interval import mean_ci  # noqa: E402

SIZE, LENGTH, EPISODES = 64, 150, 40
WARMUP = 10
CHANNELS = (16, 32, 64, 64)  # the conv widths measured (--channels)


def make_dataset(root: str) -> str:
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    eps = (make_episode(f"g-{i}", length=LENGTH, image_size=SIZE, seed=i, state_dim=8) for i in range(EPISODES))
    return str(write_dataset(eps, root, "bench_generalist"))


def _config(steps: int, window: int, batch: int):
    from trainers.generalist.config import GeneralistConfig

    return GeneralistConfig(steps=steps, window=window, batch_size=batch, shift=4, image_size=SIZE, threads=1,
                            channels=CHANNELS)


def run_trainer(path: str, steps: int, window: int, batch: int) -> float:
    """Seconds per step of `train_generalist` (after WARMUP steps), measured by its progress hook."""
    from trainers.generalist.train import train_generalist

    marks = {}

    def progress(step, loss):
        if step == WARMUP:
            marks["t0"] = time.perf_counter()
        marks["t1"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as out:
        train_generalist(path, os.path.join(out, "ckpt"), _config(steps + WARMUP, window, batch), progress=progress)
    return (marks["t1"] - marks["t0"]) / steps


def run_bare(path: str, steps: int, window: int, batch: int, channels_last: bool = False) -> float:
    """Seconds per step of the same model, loss and optimizer on one batch held in memory
    (`channels_last`: the convolutions in NHWC memory layout, a candidate speed-up)."""
    import numpy as np
    import torch

    from trainers.generalist.model import GeneralistNet, hash_tokens

    torch.manual_seed(0)
    torch.set_num_threads(1)
    config = _config(steps, window, batch)
    model = GeneralistNet(config, 8, 4)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 255, (batch, window, SIZE, SIZE, 3), dtype=np.uint8))
    state = torch.randn(batch, window, 8)
    target = torch.randn(batch, config.chunk, 4)
    tokens, offsets = hash_tokens(["insert the vga connector"] * batch, config.lang_buckets)
    for i in range(steps + WARMUP):
        if i == WARMUP:
            t0 = time.perf_counter()
        loss = (model(images, state, tokens, offsets) - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - t0) / steps


def run_loader(path: str, steps: int, window: int, batch: int) -> float:
    """Seconds per batch of what the trainer does besides the model: loader, shift, tokens."""
    import numpy as np
    import torch

    from rldg_data.loaders import LoaderConfig, RLDSLoader
    from trainers.generalist.augment import random_shift
    from trainers.generalist.model import hash_tokens, images_of

    torch.set_num_threads(1)
    config = _config(steps, window, batch)
    loader = iter(RLDSLoader(path, LoaderConfig(batch_size=batch, window=window, chunk=config.chunk,
                                                image_size=SIZE, seed=0, window_buffer=config.buffer,
                                                num_workers=1)))
    rng = np.random.default_rng(1)
    for i in range(steps + WARMUP):
        if i == WARMUP:
            t0 = time.perf_counter()
        b = next(loader)
        hash_tokens(b["language_instruction"], config.lang_buckets)
        torch.from_numpy(random_shift(images_of(b, False), 4, rng))
    return (time.perf_counter() - t0) / steps


def run_bare_channels_last(path: str, steps: int, window: int, batch: int) -> float:
    return run_bare(path, steps, window, batch, channels_last=True)


KINDS = {"trainer": run_trainer, "bare": run_bare, "loader": run_loader, "bare_channels_last": run_bare_channels_last}


def child(kind: str, path: str, steps: int, window: int, batch: int) -> None:
    from peak_rss import PeakRSS

    with PeakRSS() as rss:
        seconds = KINDS[kind](path, steps, window, batch)
    print(json.dumps({"seconds_per_step": seconds, "peak_mib": rss.peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--channels", default="16,32,64,64", help="conv widths, comma-separated")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global CHANNELS
    CHANNELS = tuple(int(c) for c in args.channels.split(","))
    if args.child:
        return child(args.child[0], args.child[1], args.steps, args.window, args.batch)
    with tempfile.TemporaryDirectory() as root:
        path = make_dataset(root)
        results = {k: [] for k in KINDS}
        peaks = {k: 0.0 for k in KINDS}
        for _ in range(args.rounds):
            for kind in KINDS:
                out = subprocess.run([sys.executable, __file__, "--child", kind, path, "--steps", str(args.steps),
                                      "--window", str(args.window), "--batch", str(args.batch),
                                      "--channels", args.channels],
                                     check=True, capture_output=True, text=True).stdout
                row = json.loads(out.strip().splitlines()[-1])
                results[kind].append(1000 * row["seconds_per_step"])
                peaks[kind] = max(peaks[kind], row["peak_mib"])
    print(f"channels {args.channels}, batch {args.batch}, window {args.window}, {SIZE}x{SIZE} images, one torch thread, "
          f"{args.steps} steps x {args.rounds} rounds")
    for kind, values in results.items():
        mean, half = mean_ci(values)
        print(f"{kind:18s} {mean:7.1f} ms/step +- {half:.1f} (95% t)  peak RSS {peaks[kind]:.0f} MiB  "
              f"ratio to bare {mean / mean_ci(results['bare'])[0]:.2f}")


if __name__ == "__main__":
    main()
