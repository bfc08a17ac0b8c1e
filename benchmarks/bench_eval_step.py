"""Cost of one evaluation step of a generalist, split: simulator step with the 64x64 render (the
arm drawn from the light render meshes of robot_io/sim/meshes.py, and from Meta-World's full
meshes, as before), the same step without rendering, and the generalist's forward pass at batch 1
(window 1, flatten encoder, the small profile's 8-16-32-64 widths and the default 16-32-64-64;
untrained weights cost the same). One process, one torch thread, measured in alternating blocks
on assembly envs; means with 95% t-intervals.

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
    from robot_io.sim import env as env_module
    from trainers.generalist.config import GeneralistConfig
    from trainers.generalist.model import GeneralistNet, hash_tokens

    torch.set_num_threads(1)
    env = robot_io.make(args.task, args.variant, image_size=64, seed=0)
    lighten = env_module.meshes.lighten_render_meshes
    env_module.meshes.lighten_render_meshes = lambda spec, *a, **k: 0  # Meta-World's full meshes
    try:
        full_env = robot_io.make(args.task, args.variant, image_size=64, seed=0)
    finally:
        env_module.meshes.lighten_render_meshes = lighten
    nets = {"generalist forward (batch 1), 8-16-32-64": (8, 16, 32, 64),
            "generalist forward (batch 1), 16-32-64-64": (16, 32, 64, 64)}
    nets = {name: GeneralistNet(GeneralistConfig(window=1, image_size=64, channels=c), 8, 4).eval()
            for name, c in nets.items()}
    tokens, offsets = hash_tokens([env.language_instruction], 512)
    rng = np.random.default_rng(0)
    envs = {"sim step + render": env, "sim step + render, full arm meshes": full_env, "sim step, no render": env}
    times = {name: [] for name in [*envs, *nets]}
    try:
        obs = {id(e): e.reset(seed=0) for e in (env, full_env)}
        for _ in range(args.rounds):
            for name in times:
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    if name in nets:
                        with torch.no_grad():
                            nets[name](torch.from_numpy(obs[id(env)]["image"][None, None].copy()),
                                       torch.zeros(1, 1, 8), tokens, offsets)
                        continue
                    e = envs[name]
                    rendered = name != "sim step, no render"
                    obs_new, _, term, trunc, _ = e.step(rng.uniform(-1, 1, 4), _render=rendered)
                    if rendered:
                        obs[id(e)] = obs_new
                    if term or trunc:
                        obs[id(e)] = e.reset(seed=int(rng.integers(1 << 30)))
                times[name].append(1000 * (time.perf_counter() - t0) / args.steps)
    finally:
        env.close()
        full_env.close()
    render = mean_ci(times["sim step + render"])[0]
    for name, values in times.items():
        mean, half = mean_ci(values)
        print(f"{name:45s} {mean:6.2f} ms +- {half:.2f} (95% t, {args.rounds} blocks of {args.steps})  "
              f"ratio to rendered step {mean / render:.2f}")


if __name__ == "__main__":
    main()
