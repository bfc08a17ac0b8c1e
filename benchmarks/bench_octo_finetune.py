"""Octo fine-tuning steps/s on this CPU from our export, against Octo's data loading alone.

    .venv/bin/python benchmarks/bench_octo_finetune.py [--steps 50] [--batch-size 8]

Runs `rldg finetune octo` (Octo's own scripts/finetune.py in .venv-interop) on a demo-shaped
`rldg mix` (as tests/interop/test_octo_finetune.py builds it) from the small local checkpoint
(tests/interop/octo_tiny_checkpoint.py). finetune.py times every step itself (its `Timer`:
"dataset" = `next()` on Octo's loader over our export, "train" = the jitted train step, "total")
and logs the averages every `log_interval` steps; each logged window (after the first, which holds
the compile) is one sample. Reported: steps/s of the whole step and of the loader alone (the
reference, measured in the same run), their ratio (what fine-tuning costs beyond data loading),
each with n and a 95% t interval over windows, and the peak RSS of the run's processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def interval(values) -> tuple[float, float, float]:
    from scipy import stats

    values = np.asarray(values, float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    from tests.interop import side_env
    from tests.interop.test_octo_finetune import finetune

    ready, reason = side_env.status()
    if not ready:
        print(f"skipped: {reason}")
        return 0
    python = side_env.python_path()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dataset = _mix(root)
        checkpoint = root / "checkpoint"
        import subprocess

        subprocess.run([str(python), str(REPO / "tests/interop/octo_tiny_checkpoint.py"), str(checkpoint)],
                       check=True, capture_output=True, env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
        start = time.monotonic()
        res = finetune(dataset, root / "export", checkpoint, python, steps=args.steps,
                       batch_size=args.batch_size)
        wall = time.monotonic() - start
        if res.returncode != 0:
            print(res.stderr[-3000:])
            return 1
        from trainers.octo_launch import read_metrics

        logged = [m for m in read_metrics(root / "export" / "runs" / "metrics.jsonl") if "timer/total" in m]
    windows = logged[1:]  # the first window holds the JIT compile
    total = [1.0 / m["timer/total"] for m in windows]
    loader = [1.0 / m["timer/dataset"] for m in windows]
    ratio = [m["timer/dataset"] / m["timer/total"] for m in windows]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    fmt = lambda v: "{:.2f} [{:.2f}, {:.2f}]".format(*interval(v))  # noqa: E731
    print(json.dumps({"steps": args.steps, "batch_size": args.batch_size, "windows": len(windows),
                      "wall_s": round(wall, 1)}))
    print(f"fine-tuning steps/s (whole step): {fmt(total)} (n={len(windows)} windows)")
    print(f"Octo's loader alone, batches/s (reference, same run): {fmt(loader)} (n={len(windows)})")
    print(f"fine-tuning / loader-alone speed: {fmt(ratio)} (n={len(windows)}); "
          f"peak RSS of a child process {peak:.0f} MiB")
    return 0


def _mix(root: Path) -> Path:
    """The interop tests' demo-shaped mix (tests/interop/conftest.py: write_demo_mix)."""
    from tests.interop.conftest import write_demo_mix

    return write_demo_mix(root)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
