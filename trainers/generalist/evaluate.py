"""`evaluate_generalist`: roll a checkpoint out in the simulated suite on seen and unseen variants.

Per variant and per split: successes, episodes, success rate with its 95% Wilson interval, the
steps of every successful episode and their median (cycle time); written as JSON and a Markdown
table (atomically). Seeded: episode i of a variant resets with seed + i.
Rollouts of a checkpoint run in fresh (spawned) worker processes, two at a time, each on one half
of a variant's episodes (so that both cores stay busy to the end whatever the number of variants):
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
from trainers.evaluation import run_episode
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


def rollout(policy, env, seed: int, max_steps: Optional[int] = None) -> tuple[bool, int, int]:
    """One episode: (success, steps, stages finished); `max_steps` caps it below the task's own
    limit. Stages finished: the highest stage the task reported (latched), plus one on success."""
    limit = min(env.max_episode_steps, max_steps or env.max_episode_steps)
    reached = [0]

    def on_info(info) -> None:
        reached[0] = max(reached[0], int(info.get("stage", 0)))

    success, steps = run_episode(env, policy.act, seed, reset=policy.reset, max_steps=limit, on_info=on_info)
    return success, steps, reached[0] + int(success)


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
        results[variant] = variant_row(env.split, outcomes, getattr(env, "stage_names", ()))
    return {"task": task, "seed": seed, "variants": results, "splits": _by_split(results)}


def variant_row(split: str, outcomes: Sequence[tuple], stage_names: Sequence[str] = ()) -> dict:
    """One variant's result from its episodes' (success, steps[, stages finished]), in episode
    order. A multi-stage task adds `stages`: per stage name, the episodes that finished it (a rate
    with its interval), so a reader sees at which stage a policy fails."""
    wins = [o[1] for o in outcomes if o[0]]
    row = {"split": split, **rate(len(wins), len(outcomes)), "successful_steps": wins,
           "median_cycle_time": float(np.median(wins)) if wins else None}
    if stage_names:
        row["stage_names"] = list(stage_names)  # the stages' order (JSON with sorted keys loses it)
        row["stages"] = {name: rate(sum(1 for o in outcomes if len(o) > 2 and o[2] > k), len(outcomes))
                         for k, name in enumerate(stage_names)}
    return row


def _by_split(results: dict) -> dict:
    out = {}
    for split in ("seen", "unseen"):
        rows = [r for r in results.values() if r["split"] == split]
        if rows:
            steps = [s for r in rows for s in r.get("successful_steps", [])]
            out[split] = {**rate(sum(r["successes"] for r in rows), sum(r["episodes"] for r in rows)),
                          "successful_steps": steps,
                          "median_cycle_time": float(np.median(steps)) if steps else None}
            names = rows[0].get("stage_names", [])
            if names:
                out[split]["stage_names"] = list(names)
                out[split]["stages"] = {name: rate(sum(r["stages"][name]["successes"] for r in rows),
                                                   sum(r["stages"][name]["episodes"] for r in rows))
                                        for name in names}
    return out


def _evaluate_part(checkpoint: str, task: str, variant: str, first: int, episodes: int, seed: int,
                   max_steps: Optional[int], open_loop: bool = False) -> tuple[str, tuple, list[tuple]]:
    """Worker: episodes first..first+episodes-1 of one variant (reset seeds seed + i), in its own
    process (see the module docstring); returns the variant's split, its stage names and the
    (success, steps, stages finished) list.

    One torch thread: two workers run at once on a 2-core machine, and batch-1 inference gains
    nothing from more (extra OpenMP threads only spin-wait each other)."""
    import torch

    from trainers.generalist.checkpoint import load_policy

    import robot_io

    torch.set_num_threads(1)
    policy = load_policy(checkpoint, open_loop=open_loop)
    env = robot_io.make(task, variant, image_size=policy.config.image_size, wrist=policy.config.wrist,
                        seed=seed)
    policy.instruction = env.language_instruction
    try:
        return env.split, env.stage_names, [rollout(policy, env, seed + i, max_steps)
                                            for i in range(first, first + episodes)]
    finally:
        env.close()


def _parts(episodes: int, workers: int = 2) -> list[tuple[int, int]]:
    """(first, count) halves of a variant's episodes (one part when there is a single episode)."""
    k = max(1, min(workers, episodes))
    edges = np.linspace(0, episodes, k + 1).astype(int)
    return [(int(lo), int(hi - lo)) for lo, hi in zip(edges[:-1], edges[1:])]


def episodes_per_variant(task: str, names: Sequence[str], episodes: int,
                         seen_episodes: Optional[int] = None) -> dict[str, int]:
    """Episodes of each variant: `seen_episodes` on the task's seen variants when given (a
    comparison that needs more power on the seen split, without paying for it on every unseen
    variant), `episodes` elsewhere. Episode i still resets with seed + i, so a seen variant's
    first `episodes` episodes are the same whatever `seen_episodes` is."""
    import robot_io

    if episodes <= 0 or (seen_episodes is not None and seen_episodes <= 0):
        raise RldgError(f"episodes must be positive, got {episodes} (seen: {seen_episodes})")
    seen = set(robot_io.variants(task, "seen"))
    return {v: seen_episodes if seen_episodes and v in seen else episodes for v in names}


def evaluate_generalist(checkpoint: str | os.PathLike, task: str, variants: str | Sequence[str] = "seen",
                        episodes: int = 10, *, seen_episodes: Optional[int] = None, seed: int = 0,
                        out: Optional[str | os.PathLike] = None,
                        max_steps: Optional[int] = None, open_loop: bool = False,
                        progress: Optional[Callable[[int], None]] = None) -> dict:
    """Evaluates a generalist checkpoint; writes `out` (JSON) and `out` with .md (table) if given.

    episodes: per variant; seen_episodes: per seen variant instead, if given (see
    `episodes_per_variant`).
    open_loop: run each predicted chunk to its end before predicting again (decisions every
    `chunk` steps), instead of the checkpoint's setting (temporal ensembling by default)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    names = resolve_variants(task, variants)
    counts = episodes_per_variant(task, names, episodes, seen_episodes)
    jobs = [(v, first, count) for v in names for first, count in _parts(counts[v])]
    with ProcessPoolExecutor(min(2, len(jobs)), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [(v, pool.submit(_evaluate_part, str(checkpoint), task, v, first, count, seed, max_steps,
                                   open_loop)) for v, first, count in jobs]
        outcomes: dict[str, list] = {v: [] for v in names}
        splits: dict[str, str] = {}
        stage_names: tuple = ()
        for variant, future in futures:
            splits[variant], stage_names, part = future.result()
            outcomes[variant].extend(part)
            if progress:
                progress(len(part))
    rows = {v: variant_row(splits[v], outcomes[v], stage_names) for v in names}
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
    staged = [(name, r) for name, r in rows if r.get("stages")]
    if staged:
        names = staged[0][1]["stage_names"]
        lines += ["", "Stages finished (episodes that got at least this far, 95% Wilson interval):", "",
                  "| variant | split | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
        lines += [f"| {name} | {r['split']} | " + " | ".join(fmt_rate(r["stages"][s]) for s in names) + " |"
                  for name, r in staged]
    return "\n".join(lines) + "\n"

