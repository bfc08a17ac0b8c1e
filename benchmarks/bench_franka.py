"""Franka client benchmark: the 10 Hz control loop's period, and the client's cost per step
against stepping the simulator directly.

Starts `robot_io.sim.server` (insertion/vga, 64x64 main camera) in a child process, then:
1. loop: N steps of `FrankaEnv` at 10 Hz (a zero action; /clearerr + /pose + /getstate +
   /camera per step): period p50/p99/max and the overrun rate (Wilson 95% interval);
2. overhead: the same steps with no period to sleep out (hz 1000: the step's own work, i.e. the
   HTTP round trips, JSON, the server's render and the client's resize), against the reference
   measured in the same run: `SimEnv.step` with a 64x64 render in this process.
Peak memory (ru_maxrss) of this process and of the server.

    MUJOCO_GL=egl .venv/bin/python benchmarks/bench_franka.py [--steps 300]
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np

import robot_io
import robot_io.franka as franka
from robot_io.franka.env import FrankaEnv
from robot_io.sim.server import spawned


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def direct_ms(steps: int) -> np.ndarray:
    env = robot_io.make("insertion", "vga", image_size=64, render=True)
    env.reset(seed=0)
    times = []
    cpu = time.process_time()
    for _ in range(steps):
        t = time.perf_counter()
        env.step(np.zeros(4, np.float32))
        times.append(time.perf_counter() - t)
    direct_ms.cpu_ms = (time.process_time() - cpu) / steps * 1000
    env.close()
    return np.asarray(times) * 1000


def api_steps(url: str, hz: float, steps: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    cfg, client = franka.resolve_config(url, {"hz": hz, "max_episode_steps": steps + 1})
    env = FrankaEnv(cfg, client)
    env.reset(seed=0)
    before = client.requests
    work = []
    cpu = time.process_time()
    for _ in range(steps):
        t = time.perf_counter()
        env.step(np.zeros(7))
        work.append(time.perf_counter() - t)
    api_steps.cpu_ms = (time.process_time() - cpu) / steps * 1000
    requests = client.requests - before
    stats = env.stats
    env.close()
    return np.asarray(stats.periods) * 1000, np.asarray(work) * 1000, stats.overruns, requests


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300)
    args = p.parse_args()
    n = args.steps
    with spawned("insertion", "vga") as (url, proc):
        periods, _, overruns, requests = api_steps(url, 10.0, n)
        _, work, _, _ = api_steps(url, 1000.0, n)
        api_cpu = api_steps.cpu_ms
        server_rss = _rss_of(proc.pid)
    ref = direct_ms(n)
    lo, hi = wilson(overruns, n)
    print(f"loop at 10 Hz, n={n} steps: period p50 {np.percentile(periods, 50):.1f} ms, "
          f"p99 {np.percentile(periods, 99):.1f} ms, max {periods.max():.1f} ms; overruns {overruns}/{n} = "
          f"{overruns / n:.1%} (95% CI {lo:.1%}-{hi:.1%}); {requests / n:.1f} requests per step")
    print(f"a step's own work through the API (wall, client side; the server simulates meanwhile): median "
          f"{np.median(work):.2f} ms, p99 {np.percentile(work, 99):.2f} ms, client CPU {api_cpu:.2f} ms/step; "
          f"reference, SimEnv.step + 64x64 render in-process: median {np.median(ref):.2f} ms, p99 "
          f"{np.percentile(ref, 99):.2f} ms, CPU {direct_ms.cpu_ms:.2f} ms/step; ratio (wall, medians) "
          f"{np.median(work) / np.median(ref):.2f}x; the API step's work is {np.median(work) / 100:.1%} of a "
          f"100 ms period")
    print(f"peak memory: client {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB, "
          f"server {server_rss:.0f} MiB")


def _rss_of(pid: int) -> float:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


if __name__ == "__main__":
    main()
