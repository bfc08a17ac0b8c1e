"""Loader throughput against Octo's own pipeline: rldg_data.loaders.RLDSLoader vs
`octo.data.dataset.make_single_dataset` (octo-models/octo 241fb35, dlimp ad72ce3, run in
.venv-interop under Octo's pins), on the same dataset, in one run.

Same dataset (a contract dataset written here: 64x64 JPEG primary + wrist cameras, 50-step
episodes), same window (2), action chunk (4), batch (64 windows), shuffle (a 2048-window buffer,
episode order shuffled) and both cameras decoded. Octo reads our `rldg finetune octo` export as
written and is iterated as its scripts/finetune.py does (`repeat().unbatch().shuffle().batch()`).
Each side runs in a fresh process, alternately, `--repeats` times: frames/s and CPU time per frame
(every thread of that process) over `--batches` batches after the first, and its peak RSS (psutil,
sampled after every batch). Means carry a 95% t-interval over the repeats.

    .venv/bin/python benchmarks/bench_octo_loader.py [--episodes 40] [--batches 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH, WINDOW, CHUNK, SIZE, LENGTH, BUFFER = 64, 2, 4, 64, 50, 2048


def _measure(iterator, batches: int) -> dict:
    """frames/s and CPU us/frame over `batches` after the first; peak RSS sampled per batch;
    first_batch_s: from this process's start (interpreter, imports, set-up) to its first batch."""
    import psutil

    proc = psutil.Process()
    peak = 0
    next(iterator)
    first_batch_s = time.time() - proc.create_time()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        next(iterator)
        peak = max(peak, proc.memory_info().rss)
    frames = batches * BATCH
    return {"frames_s": frames / (time.perf_counter() - start), "first_batch_s": first_batch_s,
            "cpu_us": (time.process_time() - cpu) / frames * 1e6, "rss_mib": peak / 2**20}


def side_ours(path: str, batches: int) -> dict:
    sys.path.insert(0, REPO)
    from rldg_data.loaders import LoaderConfig, RLDSLoader

    loader = RLDSLoader(path, LoaderConfig(batch_size=BATCH, window=WINDOW, chunk=CHUNK, wrist=True,
                                           shuffle=True, window_buffer=BUFFER, num_workers=2))
    return _measure(iter(loader), batches)


def side_octo(export: str, batches: int) -> dict:
    """Runs in .venv-interop: Octo's make_single_dataset on the export, iterated as finetune.py does."""
    sys.path.insert(0, export)
    from octo.data.dataset import make_single_dataset

    with open(os.path.join(export, "octo_dataset_kwargs.json")) as f:
        kwargs = json.load(f)
    dataset = make_single_dataset(
        kwargs, train=True, traj_transform_kwargs=dict(window_size=WINDOW, action_horizon=CHUNK),
        frame_transform_kwargs=dict(resize_size={k: (SIZE, SIZE) for k in kwargs["image_obs_keys"]}))
    iterator = dataset.repeat().unbatch().shuffle(BUFFER).batch(BATCH).iterator()
    return _measure(iterator, batches)


def make_dataset(root: str, episodes: int) -> tuple[str, str]:
    """The contract dataset and its Octo export (what a user's `rldg finetune octo` writes)."""
    sys.path.insert(0, REPO)
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode
    from rldg_data.exports.octo import export_octo

    eps = (make_episode(f"b-{i}", length=LENGTH, image_size=SIZE, seed=i, wrist=True) for i in range(episodes))
    path = write_dataset(eps, os.path.join(root, "data"), f"octo_bench{episodes}")
    return str(path), str(export_octo(path, os.path.join(root, "octo_export")))


def _run_side(python: str, side: str, target: str, batches: int, script: str = os.path.abspath(__file__)) -> dict:
    """Runs `script --side SIDE` in a fresh process of `python`; its last stdout line as JSON."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    if side == "octo":
        env.pop("PYTHONPATH", None)
    start = time.perf_counter()
    res = subprocess.run([python, script, "--side", side, "--target", target,
                          "--batches", str(batches)], capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{res.stderr[-4000:]}")
    result = json.loads(res.stdout.strip().splitlines()[-1])
    # end to end, as a user's training script sees it: start-up and every batch, the first included
    result["end_to_end_frames_s"] = (batches + 1) * BATCH / wall
    return result


def _mean_ci(values: list[float], digits: int = 0) -> str:
    from t_interval import mean_ci

    mean, half = mean_ci(values)
    if len(values) < 2:
        return f"{mean:8.{digits}f} (n=1)"
    return f"{mean:8.{digits}f} ± {half:.{digits}f} (95% CI, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=("ours", "octo"), help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        result = side_ours(args.target, args.batches) if args.side == "ours" else side_octo(args.target, args.batches)
        print(json.dumps(result))
        return
    sys.path.insert(0, REPO)
    from tests.interop import side_env

    ready, reason = side_env.status()
    if not ready:
        raise SystemExit(f"Octo's side of the benchmark needs .venv-interop: {reason} (run `make interop-env`)")
    with tempfile.TemporaryDirectory() as root:
        path, export = make_dataset(root, args.episodes)
        runs: dict[str, list[dict]] = {"ours": [], "octo": []}
        for _ in range(args.repeats):  # alternate, so both see the same machine load
            runs["octo"].append(_run_side(str(side_env.python_path()), "octo", export, args.batches))
            runs["ours"].append(_run_side(sys.executable, "ours", path, args.batches))
    print(f"{args.episodes} episodes x {LENGTH} steps, {SIZE}x{SIZE} JPEG primary + wrist; batch {BATCH}, "
          f"window {WINDOW}, chunk {CHUNK}, shuffle buffer {BUFFER}; {args.batches} batches after the first")
    for side, label in (("octo", "Octo make_single_dataset"), ("ours", "rldg_data.loaders")):
        rates = [r["frames_s"] for r in runs[side]]
        cpu = [r["cpu_us"] for r in runs[side]]
        print(f"  {label:25s} {_mean_ci(rates)} frames/s   CPU {sum(cpu) / len(cpu):6.1f} us/frame   "
              f"peak RSS {max(r['rss_mib'] for r in runs[side]):6.0f} MiB")
        print(f"  {'':25s} end to end (process start to last batch): "
              f"{_mean_ci([r['end_to_end_frames_s'] for r in runs[side]])} frames/s; first batch after "
              f"{_mean_ci([r['first_batch_s'] for r in runs[side]], 1)} s")
    ratios = [o["frames_s"] / r["frames_s"] for o, r in zip(runs["ours"], runs["octo"])]
    e2e = [o["end_to_end_frames_s"] / r["end_to_end_frames_s"] for o, r in zip(runs["ours"], runs["octo"])]
    print(f"  end to end ratio ours/Octo: {sum(e2e) / len(e2e):.2f}x (per repeat: {', '.join(f'{r:.2f}' for r in e2e)})")
    cpu_ratio = (sum(r["cpu_us"] for r in runs["octo"]) / sum(o["cpu_us"] for o in runs["ours"]))
    print(f"  ratio ours/Octo: {sum(ratios) / len(ratios):.2f}x frames/s (per repeat: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}); Octo uses {cpu_ratio:.2f}x our CPU per frame; "
          f"peak RSS ours/Octo {max(r['rss_mib'] for r in runs['ours']) / max(r['rss_mib'] for r in runs['octo']):.2f}")


if __name__ == "__main__":
    main()
