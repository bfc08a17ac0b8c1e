"""Benchmark: the cost of flushing to disk at publish points (io.atomic; RLDG_FSYNC=0 turns it off).

Episodes written per second by `write_dataset` and by `rldg mix` (build_mix in this process,
keep-all recipe), with the flushes on and off, alternating in one run so that both see the same
machine load. Prints each configuration's mean with a 95% t-interval, the on/off ratio with its
interval (per-round ratios), and peak RSS.

    .venv/bin/python benchmarks/bench_fsync.py [--episodes 200] [--length 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_mix import keep_all_recipe, synthetic_episodes  # noqa: E402
from peak_rss import PeakRSS  # noqa: E402
from t_interval import mean_ci  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def write_once(root: Path, episodes: list, tag: str) -> float:
    from rldg_data.io.writer import write_dataset

    return timed(lambda: write_dataset(iter(episodes), root / tag, "bench", max_shard_bytes=1 << 20))


def mix_once(root: Path, recipe, tag: str) -> float:
    from rldg_data.mix.pipeline import build_mix

    return timed(lambda: build_mix(recipe, root / tag))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--length", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    episodes = list(synthetic_episodes(args.episodes, args.length))
    results = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("RLDG_BENCH_DIR")) as tmp, PeakRSS() as rss:
        root = Path(tmp)
        write_once(root, episodes, "source")
        source = root / "source" / "bench" / "1.0.0"
        recipe = keep_all_recipe(source)
        mix_once(root, recipe, "warmup")  # Beam's first pipeline pays its imports
        for name, run in (("writer", lambda tag: write_once(root, episodes, tag)),
                          ("mix", lambda tag: mix_once(root, recipe, tag))):
            seconds = {"on": [], "off": []}
            for r in range(args.rounds):
                for mode in (("on", "off") if r % 2 == 0 else ("off", "on")):
                    os.environ["RLDG_FSYNC"] = "1" if mode == "on" else "0"
                    seconds[mode].append(run(f"{name}-{mode}-{r}"))
                    shutil.rmtree(root / f"{name}-{mode}-{r}")
            os.environ.pop("RLDG_FSYNC", None)
            rates = {m: [args.episodes / s for s in v] for m, v in seconds.items()}
            ratio = [on / off for on, off in zip(rates["on"], rates["off"])]
            results[name] = {m: mean_ci(v) for m, v in rates.items()} | {"ratio_on_off": mean_ci(ratio)}
    for name, r in results.items():
        (on, on_ci), (off, off_ci), (ratio, ratio_ci) = r["on"], r["off"], r["ratio_on_off"]
        print(f"{name:7s} fsync on {on:8.1f} ± {on_ci:.1f} episodes/s   off {off:8.1f} ± {off_ci:.1f}   "
              f"on/off {ratio:.3f} ± {ratio_ci:.3f}  (n={args.rounds} rounds, {args.episodes} episodes "
              f"x {args.length} steps)")
    print(f"peak RSS {rss.peak_mib:.0f} MiB")
    print(json.dumps({"episodes": args.episodes, "length": args.length, "rounds": args.rounds,
                      "peak_rss_mib": round(rss.peak_mib), **{k: {m: list(v) for m, v in r.items()}
                                                                  for k, r in results.items()}}))


if __name__ == "__main__":
    main()
