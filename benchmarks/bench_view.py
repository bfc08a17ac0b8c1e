"""`rldg view` benchmark: time to first table and to first frame, and server RSS, by dataset size.

Writes synthetic contract datasets of 1,000 and 10,000 episodes with the project's writer
(20 steps, 32x32 JPEG frames, 4-d state and action, sources cycling rl/human/scripted), then, for
each size and each repeat (sizes alternating), starts `rldg view PATH --port 0` as a fresh process
and measures from its launch:
  - time to first table: the first page of /api/episodes answered (index built, server up);
  - time to first frame: then /api/episode/N (N in the middle) and its first frame answered;
  - a filtered, sorted page (/api/episodes?source=rl&sort=length&desc=1&offset=500): latency;
  - server RSS after those requests, and its peak (sampled every 20 ms).
Each size runs cold (a new, empty index cache: every shard indexed) and then warm (the same
cache again: rows reused, as on a second `rldg view` of an unchanged dataset). A third
configuration serves the 10,000-episode dataset ten times over (100,000 rows) to show the
index and the table queries at that size. Prints mean and 95% t-interval over the repeats and the
RSS ratio 10k/1k (goal <= 1.2), the reference being the 1k run of the same invocation.

Optionally (--index-reference), in process, build_index against parsing every record whole.

    .venv/bin/python benchmarks/bench_view.py [--repeats 5] [--sizes 1000,10000] [--x10] [--index-reference]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from t_interval import mean_ci  # noqa: E402


def write_synthetic(folder: Path, n: int) -> Path:
    """A dataset of `n` episodes (50 templates re-labelled, so writing stays quick)."""
    from rldg_data.contract.episode import Episode
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    sources = ("rl", "human", "scripted")
    templates = [make_episode(f"t{i}", length=20, image_size=32, seed=i, source=sources[i % 3],
                              variant=("vga", "usb_c", "round")[i % 3], success=bool(i % 2))
                 for i in range(50)]

    def episodes():
        for i in range(n):
            t = templates[i % len(templates)]
            yield Episode(t.steps, dataclasses.replace(t.metadata, episode_id=f"ep-{i}", seed=i))

    return write_dataset(episodes(), folder, f"bench{n}")


def rldg_command() -> list[str]:
    rldg = Path(sys.executable).parent / "rldg"
    return [str(rldg)] if rldg.exists() else [sys.executable, "-c", "from rldg_data.cli import main; main()"]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def measure(paths: list[Path], episodes: int, cache: str) -> dict:
    """One fresh `rldg view` process: launch -> first table -> first frame, RSS."""
    import psutil

    env = dict(os.environ, RLDG_VIEW_REGISTRY=tempfile.mkdtemp(prefix="rldg-view-reg-"), RLDG_VIEW_CACHE=cache)
    t0 = time.perf_counter()
    proc = subprocess.Popen([*rldg_command(), "view", *map(str, paths), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    peak = [0]
    stop = threading.Event()

    def sample():
        p = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], p.memory_info().rss)
            except psutil.Error:
                return
            stop.wait(0.02)

    threading.Thread(target=sample, daemon=True).start()
    try:
        url = None
        for line in proc.stdout:
            found = re.search(r"serving (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        if url is None:
            raise RuntimeError("rldg view did not start")
        page = json.loads(fetch(url + "api/episodes?limit=50"))
        t_table = time.perf_counter() - t0
        assert page["total"] == episodes, page["total"]
        row = episodes // 2
        episode = json.loads(fetch(url + f"api/episode/{row}"))
        frame = fetch(url + f"api/frame/{row}/image/0")
        t_frame = time.perf_counter() - t0
        assert episode["error"] is None and frame[:2] == b"\xff\xd8"
        q0 = time.perf_counter()
        fetch(url + "api/episodes?source=rl&sort=length&desc=1&offset=500&limit=50")
        t_query = time.perf_counter() - q0
        rss = psutil.Process(proc.pid).memory_info().rss
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=30)
    return {"table_s": t_table, "frame_s": t_frame, "query_s": t_query, "rss_mib": rss / 2**20,
            "peak_mib": max(peak[0], rss) / 2**20}


def index_vs_full_parse(path: Path, repeats: int) -> None:
    """In process: `build_index` (headers + metadata entries) against the reference of parsing
    every record whole (`iter_episodes(decode_images=False, validate=False)`, frames left encoded),
    what an indexer without the entry walk would pay. Alternating, `repeats` times each."""
    from rldg_data.io.reader import iter_episodes
    from viz.view.index import build_index

    ours, reference = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        n = len(build_index([path]))
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        m = sum(1 for _ in iter_episodes(path, decode_images=False, validate=False))
        reference.append(time.perf_counter() - t)
        assert n == m
    (a, ha), (b, hb) = mean_ci(ours), mean_ci(reference)
    r, hr = mean_ci([x / y for x, y in zip(ours, reference)])
    print(f"\nindex {n} episodes in process: build_index {a:.3f} ± {ha:.3f} s, reference full parse "
          f"{b:.3f} ± {hb:.3f} s, ratio {r:.2f} ± {hr:.2f} (n={repeats})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--x10", action="store_true", help="also serve the largest dataset 10 times (100k rows)")
    parser.add_argument("--index-reference", action="store_true",
                        help="also time build_index against parsing every record whole, in process")
    parser.add_argument("--work", default=None, help="folder for the datasets (default: a temporary one)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-view-"))
    datasets = {}
    for n in sizes:
        t = time.perf_counter()
        datasets[n] = write_synthetic(work / f"d{n}", n) if not (work / f"d{n}").exists() else \
            next((work / f"d{n}").glob(f"bench{n}/*"))
        print(f"dataset {n}: {datasets[n]} ({time.perf_counter() - t:.1f} s to write)", flush=True)
    configs = [(f"{n}", [datasets[n]], n) for n in sizes]
    if args.x10:
        big = max(sizes)
        configs.append((f"{big}x10", [datasets[big]] * 10, big * 10))
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for name, paths, n in configs:
            cache = tempfile.mkdtemp(prefix="rldg-view-cache-")  # cold: every shard indexed
            results.setdefault(name, []).append(measure(paths, n, cache))
            results.setdefault(name + " warm", []).append(measure(paths, n, cache))  # rows from the cache
    print(f"\n{'episodes':>15} {'first table s':>18} {'first frame s':>18} {'filtered page ms':>18} "
          f"{'RSS MiB':>14} {'peak MiB':>9}  (mean ± 95% t, n={args.repeats})")
    summary = {}
    for name, runs in results.items():
        cols = {k: mean_ci([r[k] for r in runs]) for k in runs[0]}
        summary[name] = cols
        print(f"{name:>15} {cols['table_s'][0]:>10.3f} ± {cols['table_s'][1]:.3f} "
              f"{cols['frame_s'][0]:>10.3f} ± {cols['frame_s'][1]:.3f} "
              f"{cols['query_s'][0] * 1000:>10.1f} ± {cols['query_s'][1] * 1000:.1f} "
              f"{cols['rss_mib'][0]:>7.1f} ± {cols['rss_mib'][1]:.1f} {cols['peak_mib'][0]:>9.1f}")
    small, large = str(min(sizes)), str(max(sizes))
    if small != large:
        ratios = [b["rss_mib"] / a["rss_mib"] for a, b in zip(results[small], results[large])]
        m, h = mean_ci(ratios)
        print(f"\nRSS ratio {large}/{small}: {m:.3f} ± {h:.3f} (goal <= 1.2) -> {'OK' if m <= 1.2 else 'OVER'}")
        t_ratio = mean_ci([b["table_s"] / a["table_s"] for a, b in zip(results[small], results[large])])
        print(f"first-table time ratio {large}/{small}: {t_ratio[0]:.2f} ± {t_ratio[1]:.2f}")
    if args.index_reference:
        index_vs_full_parse(datasets[max(sizes)], args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
