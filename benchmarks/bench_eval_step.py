"""Cost of one evaluation step of a generalist, split: simulator step with the 64x64 render, the
same step without rendering, and the generalist's forward pass at batch 1 (the small profile's
network: window 1, flatten encoder; untrained weights cost the same). One process, one torch
thread, the three measured in alternating blocks on one assembly env; means with 95% t-intervals.

    MUJOCO_GL=egl .venv/bin/python benchmarks/bench_eval_step.py [--steps 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from t_interval import mean_ci  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--task", default="assembly")
    parser.add_argument("--variant", default="round_nut")
    args = parser.parse_args()
    import numpy as np
    import torch

    import robot_io
    from trainers.generalist.config import GeneralistConfig
    from trainers.generalist.model import GeneralistNet, hash_tokens

    torch.set_num_threads(1)
    env = robot_io.make(args.task, args.variant, image_size=64, seed=0)
    net = GeneralistNet(GeneralistConfig(window=1, image_size=64), 8, 4).eval()
    tokens, offsets = hash_tokens([env.language_instruction], 512)
    rng = np.random.default_rng(0)
    times = {"sim step + render": [], "sim step, no render": [], "generalist forward (batch 1)": []}
    try:
        obs = env.reset(seed=0)
        for _ in range(args.rounds):
            for name in times:
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    if name == "generalist forward (batch 1)":
                        with torch.no_grad():
                            net(torch.from_numpy(obs["image"][None, None].copy()), torch.zeros(1, 1, 8), tokens, offsets)
                        continue
                    obs_new, _, term, trunc, _ = env.step(rng.uniform(-1, 1, 4), _render=name == "sim step + render")
                    if name == "sim step + render":
                        obs = obs_new
                    if term or trunc:
                        obs = env.reset(seed=int(rng.integers(1 << 30)))
                times[name].append(1000 * (time.perf_counter() - t0) / args.steps)
    finally:
        env.close()
    render = mean_ci(times["sim step + render"])[0]
    for name, values in times.items():
        mean, half = mean_ci(values)
        print(f"{name:30s} {mean:6.2f} ms +- {half:.2f} (95% t, {args.rounds} blocks of {args.steps})  "
              f"ratio to rendered step {mean / render:.2f}")


if __name__ == "__main__":
    main()
