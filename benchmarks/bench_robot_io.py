"""robot_io benchmark: simulation speed, render speed, and demonstrator quality per variant.

Prints, per task: control steps/s without images (ratio against Meta-World's own env of the same
scene stepped in the same run), renders/s at 64x64 and 128x128 (ratio against MuJoCo's default
render settings: multisampling, shadows, reflections, skybox). Then per variant: scripted expert
strict success over N seeded episodes and its median cycle time, the human proxy's success and
median cycle time (ratio to the expert), and the success of an expert tuned to VGA on every
connector. Peak memory from ru_maxrss.

    MUJOCO_GL=egl .venv/bin/python benchmarks/bench_robot_io.py [--episodes 50]
"""

from __future__ import annotations

import argparse
import resource
import time

import mujoco
import numpy as np

import robot_io

MW_ENV = {"insertion": "peg-insert-side-v3", "pick_place": "pick-place-v3", "assembly": "assembly-v3"}


def steps_per_s(env, n=2000) -> float:
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
    t = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(a, _render=False)
        if term or trunc:
            env.reset()
    return n / (time.perf_counter() - t)


def metaworld_steps_per_s(task, n=2000) -> float:
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE

    env = ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE[MW_ENV[task] + "-goal-observable"]()
    env._freeze_rand_vec = False
    env.reset()
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
    t = time.perf_counter()
    for i, a in enumerate(actions):
        env.step(a)
        if env.curr_path_length >= env.max_path_length - 1:
            env.reset()
    rate = n / (time.perf_counter() - t)
    env.close()
    return rate


def renders_per_s(env, size, n=200) -> float:
    env.render(size=size)
    t = time.perf_counter()
    for _ in range(n):
        env.render(size=size)
    return n / (time.perf_counter() - t)


def default_renders_per_s(env, size, n=50) -> float:
    """Reference: MuJoCo's default quality (4x multisampling, shadows, reflections, skybox)."""
    model = env.model
    saved = model.vis.quality.offsamples
    model.vis.quality.offsamples = 4
    with mujoco.Renderer(model, size, size) as r:
        r.update_scene(env.data, camera="rldg_main")
        r.render()
        t = time.perf_counter()
        for _ in range(n):
            r.update_scene(env.data, camera="rldg_main")
            r.render()
        rate = n / (time.perf_counter() - t)
    model.vis.quality.offsamples = saved
    return rate


def rollouts(task, variant, kind, episodes, tuned_to=None):
    with robot_io.make(task, variant, render=False) as env:
        demo = robot_io.make_demonstrator(kind, env, tuned_to=tuned_to)
        out = []
        for seed in range(episodes):
            obs = env.reset(seed=seed)
            demo.reset(seed=seed)
            for t in range(env.max_episode_steps):
                obs, _, term, trunc, info = env.step(demo.act(obs), _render=False)
                if term or trunc:
                    break
            out.append((info["success"], t + 1))
    rate = float(np.mean([s for s, _ in out]))
    lengths = [n for s, n in out if s]
    return rate, (float(np.median(lengths)) if lengths else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()

    if not args.skip_speed:
        print("| task | steps/s | Meta-World steps/s | ratio | renders/s 64 | default 64 | ratio | renders/s 128 | default 128 | ratio |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for task in robot_io.TASKS:
            variant = robot_io.variants(task, "seen")[0]
            with robot_io.make(task, variant, image_size=64) as env:
                ours, mw = steps_per_s(env), metaworld_steps_per_s(task)
                env.reset(seed=0)
                r64, d64 = renders_per_s(env, 64), default_renders_per_s(env, 64)
                r128, d128 = renders_per_s(env, 128), default_renders_per_s(env, 128)
            print(f"| {task} | {ours:.0f} | {mw:.0f} | {ours / mw:.2f} | {r64:.0f} | {d64:.0f} | {r64 / d64:.1f} "
                  f"| {r128:.0f} | {d128:.0f} | {r128 / d128:.1f} |", flush=True)

    if args.skip_quality:
        print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        return
    print(f"\n| task | variant | split | expert success | expert median steps | human success "
          f"| human median steps | human/expert | VGA-tuned expert success |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task in robot_io.TASKS:
        for variant in robot_io.variants(task):
            split = robot_io.variant_info(task, variant).split
            e_rate, e_len = rollouts(task, variant, "expert", args.episodes)
            h_rate, h_len = rollouts(task, variant, "human", args.episodes)
            tuned = (f"{rollouts(task, variant, 'expert', args.episodes, tuned_to='vga')[0]:.2f}"
                     if task == "insertion" else "-")
            print(f"| {task} | {variant} | {split} | {e_rate:.2f} | {e_len:.0f} | {h_rate:.2f} | {h_len:.0f} "
                  f"| {h_len / e_len:.2f} | {tuned} |", flush=True)
    print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
