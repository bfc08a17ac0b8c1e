"""Benchmark: `rldg report` (viz.report.build_report) on a 1,000-episode dataset.

Writes a synthetic contract dataset (1,000 episodes, 3 sources, 100 steps of 64x64 JPEG frames by
default), then times the full report (figures, sample episodes, HTML) against the reference
approach of reading every episode with its images decoded (what a report that decoded every frame
would pay before drawing anything). Prints both times, their ratio and the peak memory.
The acceptance target is a report in under 60 s.

    .venv/bin/python benchmarks/bench_report.py [--episodes 1000] [--length 100] [--image-size 64]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps  # noqa: E402
from rldg_data.contract.spec import DatasetSpec  # noqa: E402
from rldg_data.io.writer import write_dataset  # noqa: E402

SOURCES = ("rl", "human", "intervention")
VARIANTS = ("vga", "usb_c", "round")


def synthetic_episode(i: int, length: int, image_size: int, rng: np.random.Generator) -> Episode:
    """A plausible episode: smooth RL-like or jittery human-like actions, a moving square."""
    source = SOURCES[i % len(SOURCES)]
    n = int(length * (0.6 if source == "rl" else 1.0) + rng.integers(-10, 10))
    t = np.linspace(0, 1, n)[:, None]
    noise = 0.05 if source == "rl" else 0.3
    actions = np.clip(np.concatenate([np.sin(3 * t + rng.normal(size=(1, 3))) * 0.6
                                      + rng.normal(0, noise, (n, 3)), np.sign(np.cos(4 * t))], 1), -1, 1)
    actions[-1] = 0
    images = np.full((n, image_size, image_size, 3), 90, np.uint8)
    for k in range(n):
        x = int(k / n * (image_size - 8))
        images[k, 10:18, x:x + 8] = (200, 60, 40)
    step_sources = [source] * n
    if source == "intervention":
        step_sources = ["rl"] * (n // 2) + ["intervention"] * (n - n // 2)
    success = bool(rng.random() < (0.9 if source == "rl" else 0.6))
    rewards = np.zeros(n, np.float32)
    rewards[-1] = float(success)
    steps = make_steps(images=images, states=np.cumsum(actions, 0).astype(np.float32) * 0.01,
                       actions=actions.astype(np.float32), rewards=rewards,
                       language_instruction="insert the connector", source=step_sources,
                       stages=(t[:, 0] > 0.5).astype(np.int32))
    meta = EpisodeMetadata(episode_id=f"bench-{i:05d}", task="insertion", variant=VARIANTS[i % 3],
                           split="seen" if i % 4 else "unseen", policy_id=f"{source}-0", success=success,
                           episode_return=float(rewards.sum()), length=n, seed=i)
    return Episode(steps, meta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()

    from rldg_data.io.reader import iter_episodes
    from viz.report import build_report

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        episodes = (synthetic_episode(i, args.length, args.image_size, rng) for i in range(args.episodes))
        path = write_dataset(episodes, Path(tmp) / "data", "bench", DatasetSpec(image_size=args.image_size, state_dim=4))
        print(f"wrote {args.episodes} episodes in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        steps = sum(len(e) for e in iter_episodes(path, decode_images=True))
        reference = time.perf_counter() - t0
        print(f"reference: read all {steps} steps with images decoded: {reference:.2f} s")

        t0 = time.perf_counter()
        report = build_report(path, Path(tmp) / "report")
        elapsed = time.perf_counter() - t0
        print(f"rldg report: {elapsed:.2f} s ({len(report.figures)} figures, "
              f"{len(report.episode_files)} sample episodes)  target < 60 s: "
              f"{'PASS' if elapsed < 60 else 'FAIL'}")
        print(f"ratio report / decode-all reference: {elapsed / reference:.2f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (ru_maxrss): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
