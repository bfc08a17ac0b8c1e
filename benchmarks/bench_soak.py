"""Soak: 20 concurrent collector processes write logs while a reader keeps reading finished
episodes; then the logs become a dataset and a mix reads it. Nothing may be lost or half read.

    .venv/bin/python benchmarks/bench_soak.py [--collectors 20] [--episodes 10]

Each collector is a real `rldg collect` process (toy staged-reach env of tests/collectors, so the
soak measures the storage path, not MuJoCo), with its own --out and seed range. While they run,
the main process repeatedly lists the finished episode logs (`collectors.logs.episode_logs`) and
reads every new one, checking it against the contract: a torn or half-committed log would fail
there. Afterwards all logs are written as one dataset, a mix (rldg_data.mix.pipeline) reads it, and the
counts must add up: episodes collected == logs read live == dataset episodes == mix episodes.
Reference for the ratio: the same number of episodes recorded by ONE collector process.
Prints wall times, the ratio, and peak RSS (this process, and the largest child).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from rldg_data.contract.check import validate_episode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TOY = ["--env-factory", "tests.collectors.toy_env:make_env",
       "--demonstrator-factory", "tests.collectors.toy_env:make_policy"]


def collector_cmd(out: Path, episodes: int, seed: int) -> list[str]:
    return [sys.executable, "-m", "rldg_data.cli", "collect", "--task", "toy", "--variant", "a",
            "--policy", "human", "--episodes", str(episodes), "--out", str(out), "--seed", str(seed),
            "--image-size", "32", *TOY]


def run_concurrent(root: Path, collectors: int, episodes: int) -> tuple[float, int, int]:
    """Starts the collectors, reads finished logs until all exit; (seconds, logs read live, polls)."""
    from collectors.logs import episode_logs, read_episode

    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    procs = [subprocess.Popen(collector_cmd(root / f"c{i:02d}", episodes, seed=i * 100_000),
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for i in range(collectors)]
    seen: set[Path] = set()
    polls = 0
    while True:
        running = any(p.poll() is None for p in procs)
        roots = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
        for path in episode_logs(roots) if roots else []:
            if path not in seen:
                validate_episode(read_episode(path))  # a finished log must read back whole, right now
                seen.add(path)
        polls += 1
        if not running:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    for p in procs:
        if p.returncode != 0:
            raise SystemExit(f"collector failed (rc {p.returncode}): {p.stderr.read().decode()[-2000:]}")
    return elapsed, len(seen), polls


def run_reference(root: Path, total: int) -> float:
    start = time.perf_counter()
    subprocess.run(collector_cmd(root / "ref", total, seed=9_000_000), cwd=REPO, check=True,
                   env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def mix_logs(root: Path, logs: list[Path]) -> tuple[int, int, float]:
    """Logs -> one dataset -> a mix of it; (dataset episodes, mix episodes, seconds)."""
    from collectors.logs import iter_log_episodes
    from rldg_data.mix.pipeline import build_mix
    from rldg_data.mix.recipe import recipe_from_dict
    from rldg_data.validation.validate import validate_dataset
    from rldg_data.io.writer import write_dataset

    start = time.perf_counter()
    dataset = write_dataset(iter_log_episodes(logs), root / "data", "soak_logs")
    recipe = recipe_from_dict({"name": "soak_mix", "seed": 0, "val_fraction": 0.0,
                               "sources": {"rl": {"path": str(dataset)}}})
    mixed = build_mix(recipe, root / "mix")
    counts = validate_dataset(dataset), validate_dataset(mixed)
    for report in counts:
        if not report.ok:
            raise SystemExit(f"soak dataset broken: {report.violations[0]}")
    return counts[0].summary.episodes, counts[1].summary.episodes, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collectors", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=10, help="episodes per collector")
    args = parser.parse_args()
    total = args.collectors * args.episodes
    with tempfile.TemporaryDirectory(prefix="rldg-soak-") as tmp:
        root = Path(tmp)
        concurrent_s, read_live, polls = run_concurrent(root / "logs", args.collectors, args.episodes)
        from collectors.logs import episode_logs

        logs = episode_logs([root / "logs"])
        dataset_eps, mix_eps, mix_s = mix_logs(root, [root / "logs"])
        reference_s = run_reference(root, total)
    ok = total == len(logs) == read_live == dataset_eps == mix_eps
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"collectors={args.collectors} episodes/collector={args.episodes} total={total}")
    print(f"counts: collected logs={len(logs)} read live={read_live} ({polls} polls) "
          f"dataset={dataset_eps} mix={mix_eps} -> {'OK, nothing lost' if ok else 'MISMATCH'}")
    print(f"concurrent {args.collectors} processes: {concurrent_s:.1f} s; one process, same episodes: "
          f"{reference_s:.1f} s; ratio concurrent/reference = {concurrent_s / reference_s:.2f}")
    print(f"logs -> dataset -> mix: {mix_s:.1f} s")
    print(f"peak RSS: this process {own:.0f} MiB, largest child {child:.0f} MiB")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
