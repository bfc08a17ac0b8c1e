"""Kills at random moments: SIGKILL of `tfds build --overwrite` (rebuild), `rldg mix --force` and
`rldg collect` at a uniformly random time within a measured uninterrupted run, N times each; after
every kill the dataset (or log folder) must be whole: the old or the new dataset, validate-clean,
never none and never a mixture; every finished log readable.

    .venv/bin/python benchmarks/bench_kills.py [--kills 8]

Uses the toy task of tests/collectors (the storage path, not MuJoCo). Prints, per target, the
survivals out of n kills with a Wilson 95% interval, the wall time of an uninterrupted run and
the ratio of a rebuild (built aside, then swapped) to a first build of the same logs (the
reference, measured in the same run), and peak RSS of the largest child.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ENV = dict(os.environ, PYTHONPATH=str(REPO))
TFDS = str(Path(sys.executable).with_name("tfds"))
TOY = ["--env-factory", "tests.collectors.toy_env:make_env",
       "--demonstrator-factory", "tests.collectors.toy_env:make_policy"]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def timed(cmd: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(cmd, cwd=REPO, env=ENV, check=True, capture_output=True, timeout=900)
    return time.monotonic() - start


def kill_after(cmd: list[str], delay: float) -> bool:
    """Runs `cmd`, SIGKILLs it after `delay` s; True if the kill landed (it was still running)."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def collect_cmd(out: Path, episodes: int, seed: int = 0) -> list[str]:
    return [sys.executable, "-m", "rldg_data.cli", "collect", "--task", "toy", "--variant", "a",
            "--policy", "human", "--episodes", str(episodes), "--out", str(out), "--seed", str(seed),
            "--image-size", "32", *TOY]


def episodes_of(path: Path) -> int | None:
    """Episodes of a validate-clean dataset at `path`; None if it is missing or not clean."""
    from rldg_data.validation.validate import validate_dataset
    from rldg_data.errors import RldgError

    try:
        report = validate_dataset(path)
    except RldgError:
        return None
    return report.summary.episodes if report.ok else None


def run_kills(name: str, cmd: list[str], duration: float, kills: int, check, rng) -> dict:
    landed = survived = 0
    outcomes = []
    for _ in range(kills):
        if not kill_after(cmd, rng.uniform(0.0, duration)):
            outcomes.append("finished")
            survived += int(check() is not None)
            continue
        landed += 1
        result = check()
        survived += int(result is not None)
        outcomes.append(str(result))
    lo, hi = wilson(survived, kills)
    print(f"{name}: {survived}/{kills} whole after a kill (Wilson 95% [{lo:.2f}, {hi:.2f}]); "
          f"{landed} kills landed mid-run; states seen: {sorted(set(outcomes))}; uninterrupted run {duration:.1f} s")
    return {"survived": survived, "kills": kills, "landed": landed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="rldg-kills-"))
    small, big = root / "small", root / "big"
    subprocess.run(collect_cmd(small, 3, seed=500), cwd=REPO, env=ENV, check=True, capture_output=True)
    subprocess.run(collect_cmd(big, 30), cwd=REPO, env=ENV, check=True, capture_output=True)

    # 1. tfds build --overwrite of builders/rldg_rollouts: 3 episodes (old) -> 30 (new).
    data = root / "data"
    build = [TFDS, "build", str(REPO / "builders" / "rldg_rollouts"), "--data_dir", str(data)]
    first = timed(build + ["--manual_dir", str(big)])
    rebuild_cmd = build + ["--manual_dir", str(big), "--overwrite"]
    rebuild = timed(rebuild_cmd)
    print(f"rebuild aside + swap {rebuild:.1f} s vs first build {first:.1f} s: ratio {rebuild / first:.2f}")
    timed(build + ["--manual_dir", str(small), "--overwrite"])
    config_dir = data / "rldg_rollouts" / "default"

    def rollouts_state():
        n = episodes_of(config_dir)
        if n not in (3, 30):
            return None
        if n == 30:  # the swap happened: go back to the old one for the next kill
            timed(build + ["--manual_dir", str(small), "--overwrite"])
        return n

    run_kills("tfds build --overwrite (rldg_rollouts)", rebuild_cmd, rebuild, args.kills, rollouts_state, rng)

    # 2. rldg mix --force of a recipe over the 30-episode dataset.
    recipe = root / "recipe.yaml"
    recipe.write_text(f"name: killmix\nseed: 1\nval_fraction: 0.2\nsources:\n"
                      f"  toy: {{path: {config_dir}}}\n")
    timed(build + ["--manual_dir", str(big), "--overwrite"])
    mix_cmd = [sys.executable, "-m", "rldg_data.cli", "mix", str(recipe), "--data_dir", str(root / "mixes")]
    timed(mix_cmd)
    mix_force = mix_cmd + ["--force"]
    mix_time = timed(mix_force)
    run_kills("rldg mix --force", mix_force, mix_time, args.kills,
              lambda: episodes_of(root / "mixes" / "killmix"), rng)

    # 3. rldg collect: every finished log reads back; a rerun completes the run.
    from collectors.logs import episode_logs, read_episode

    collect_time = timed(collect_cmd(root / "timing", 20))

    def logs_state(out):
        try:
            return len([read_episode(p) for p in episode_logs([out])]) if out.is_dir() else 0
        except Exception:  # noqa: BLE001 - any unreadable finished log counts as a failure
            return None

    states = []
    for i in range(args.kills):
        out = root / f"collect-{i}"
        kill_after(collect_cmd(out, 20), rng.uniform(0.0, collect_time))
        states.append(out)
    survived = sum(logs_state(out) is not None for out in states)
    lo, hi = wilson(survived, len(states))
    print(f"rldg collect: {survived}/{len(states)} log folders whole after a kill (Wilson 95% "
          f"[{lo:.2f}, {hi:.2f}]); uninterrupted run {collect_time:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of the largest child {peak:.0f} MiB; work folder {root}")


if __name__ == "__main__":
    main()
