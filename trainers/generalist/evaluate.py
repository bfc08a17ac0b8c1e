"""`evaluate_generalist`: roll a checkpoint out in the simulated suite on seen and unseen variants.

Per variant and per split: successes, episodes, success rate with its 95% Wilson interval, the
steps of every successful episode and their median (cycle time); written as JSON and a Markdown
table (atomically). Seeded: episode i of a variant resets with seed + i.
Rollouts of a checkpoint run in fresh (spawned) worker processes, one per variant, two at a time:
a process that has imported TensorFlow (any dataset reading does) crashes when MuJoCo creates an
EGL context, and the workers import neither TensorFlow nor the dataset code.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from rldg_data.io.atomic import write_text_atomic
from rldg_data.errors import RldgError
from trainers.generalist.intervals import fmt_rate, rate

log = logging.getLogger(__name__)


def resolve_variants(task: str, variants: str | Sequence[str]) -> list[str]:
    """"seen", "unseen", "all", or variant names (a list or a comma-separated string)."""
    import robot_io

    if task not in robot_io.TASKS:
        raise RldgError(f"unknown task {task!r}; known: {', '.join(robot_io.TASKS)}")
    if isinstance(variants, str):
        if variants in ("seen", "unseen"):
            return robot_io.variants(task, variants)
        if variants == "all":
            return robot_io.variants(task)
        variants = [v for v in variants.split(",") if v]
    known = robot_io.variants(task)
    unknown = [v for v in variants if v not in known]
    if unknown:
        raise RldgError(f"unknown {task} variant(s) {unknown}; known: {', '.join(known)}")
    return list(variants)


def rollout(policy, env, seed: int, max_steps: Optional[int] = None) -> tuple[bool, int]:
    """One episode: (success, steps); `max_steps` caps it below the task's own limit."""
    obs = env.reset(seed=seed)
    policy.reset(seed)
    limit = min(env.max_episode_steps, max_steps or env.max_episode_steps)
    for t in range(limit):
        obs, _, terminated, truncated, info = env.step(policy.act(obs))
        if terminated or truncated:
            return bool(info.get("success", False)), t + 1
    return False, limit


def evaluate_policy(policy, task: str, variants: str | Sequence[str], episodes: int = 10, *, seed: int = 0,
                    image_size: int = 64, wrist: bool = False, max_steps: Optional[int] = None,
                    progress: Optional[Callable[[int], None]] = None) -> dict:
    """Success rate and median cycle time of `policy` (anything with reset/act) per variant."""
    import robot_io

    results = {}
    for variant in resolve_variants(task, variants):
        env = robot_io.make(task, variant, image_size=image_size, wrist=wrist, seed=seed)
        if hasattr(policy, "instruction"):
            policy.instruction = env.language_instruction
        outcomes = []
        try:
            for i in range(episodes):
                outcomes.append(rollout(policy, env, seed + i, max_steps))
                if progress:
                    progress(1)
        finally:
            env.close()
        wins = [steps for ok, steps in outcomes if ok]
        results[variant] = {"split": env.split, **rate(len(wins), episodes), "successful_steps": wins,
                            "median_cycle_time": float(np.median(wins)) if wins else None}
    return {"task": task, "seed": seed, "variants": results, "splits": _by_split(results)}


def _by_split(results: dict) -> dict:
    out = {}
    for split in ("seen", "unseen"):
        rows = [r for r in results.values() if r["split"] == split]
        if rows:
            steps = [s for r in rows for s in r.get("successful_steps", [])]
            out[split] = {**rate(sum(r["successes"] for r in rows), sum(r["episodes"] for r in rows)),
                          "successful_steps": steps,
                          "median_cycle_time": float(np.median(steps)) if steps else None}
    return out


def _evaluate_variant(checkpoint: str, task: str, variant: str, episodes: int, seed: int,
                      max_steps: Optional[int], open_loop: bool = False) -> dict:
    """Worker: one variant of a checkpoint, in its own process (see the module docstring).

    One torch thread: two workers run at once on a 2-core machine, and batch-1 inference gains
    nothing from more (extra OpenMP threads only spin-wait each other)."""
    import torch

    from trainers.generalist.checkpoint import load_policy

    torch.set_num_threads(1)
    policy = load_policy(checkpoint, open_loop=open_loop)
    return evaluate_policy(policy, task, [variant], episodes, seed=seed,
                           image_size=policy.config.image_size, wrist=policy.config.wrist,
                           max_steps=max_steps)["variants"][variant]


def evaluate_generalist(checkpoint: str | os.PathLike, task: str, variants: str | Sequence[str] = "seen",
                        episodes: int = 10, *, seed: int = 0, out: Optional[str | os.PathLike] = None,
                        max_steps: Optional[int] = None, open_loop: bool = False,
                        progress: Optional[Callable[[int], None]] = None) -> dict:
    """Evaluates a generalist checkpoint; writes `out` (JSON) and `out` with .md (table) if given.

    open_loop: run each predicted chunk to its end before predicting again (decisions every
    `chunk` steps), instead of the checkpoint's setting (temporal ensembling by default)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    names = resolve_variants(task, variants)
    rows = {}
    with ProcessPoolExecutor(min(2, len(names)), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {v: pool.submit(_evaluate_variant, str(checkpoint), task, v, episodes, seed, max_steps,
                                    open_loop) for v in names}
        for variant, future in futures.items():
            rows[variant] = future.result()
            if progress:
                progress(episodes)
    results = {"task": task, "seed": seed, "variants": rows, "splits": _by_split(rows),
               "checkpoint": str(checkpoint), "open_loop": open_loop}
    if out is not None:
        out = Path(out)
        write_text_atomic(out, json.dumps(results, indent=2, sort_keys=True))
        write_text_atomic(out.with_suffix(".md"), results_table(results))
    return results


def results_table(results: dict) -> str:
    """A Markdown table: one row per variant, then one per split (success with its 95% Wilson
    interval and n)."""
    lines = [f"# {results['task']}: {results.get('checkpoint', '')}", "",
             "| variant | split | successes | success [95% Wilson] (n) | median cycle time (steps) |",
             "|---|---|---|---|---|"]
    rows = [(name, r) for name, r in results["variants"].items()]
    rows += [(f"**all {split}**", {**r, "split": split}) for split, r in results["splits"].items()]
    for name, r in rows:
        lines.append(f"| {name} | {r['split']} | {r['successes']}/{r['episodes']} | {fmt_rate(r)} | "
                     f"{r['median_cycle_time'] if r['median_cycle_time'] is not None else '-'} |")
    return "\n".join(lines) + "\n"

