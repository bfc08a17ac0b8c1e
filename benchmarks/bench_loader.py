"""Loader throughput: rldg_data.loaders vs a plain tf.data RLDS pipeline written as Octo's
dlimp-based loader does it (trajectory map: normalize + window/chunk gather; flatten to frames;
shuffle buffer; per-frame JPEG decode; batch), same data, same run. Then peak RSS of our loader
on a dataset and on one 10x larger (each in a fresh process).

    .venv/bin/python benchmarks/bench_loader.py [--episodes 20] [--batches 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

BATCH, WINDOW, CHUNK, SIZE, LENGTH = 64, 2, 4, 64, 50


def make_dataset(root: str, episodes: int) -> str:
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    eps = (make_episode(f"b-{i}", length=LENGTH, image_size=SIZE, seed=i) for i in range(episodes))
    return str(write_dataset(eps, root, f"bench{episodes}"))


def ours(path: str, batches: int) -> tuple[float, float]:
    from rldg_data.loaders import LoaderConfig, RLDSLoader

    loader = RLDSLoader(path, LoaderConfig(batch_size=BATCH, window=WINDOW, chunk=CHUNK, window_buffer=1024,
                                           num_workers=2))
    return _timed(iter(loader), batches)


def octo_style(path: str, batches: int) -> tuple[float, float]:
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from rldg_data.loaders import dataset_statistics

    stats = dataset_statistics(path)
    mean = {k: tf.constant(stats[k]["mean"], tf.float32) for k in ("action", "proprio")}
    std = {k: tf.constant(stats[k]["std"], tf.float32) + 1e-8 for k in ("action", "proprio")}
    builder = tfds.builder_from_directory(path)
    ds = builder.as_dataset(split="train", shuffle_files=True,
                            decoders={"steps": {"observation": {"image": tfds.decode.SkipDecoding()}}})

    def traj_map(episode):  # whole trajectory: restructure, normalize, window + chunk (no decode)
        steps = episode["steps"].batch(1 << 20).get_single_element()  # dlimp: steps as one trajectory
        n = tf.shape(steps["action"])[0]
        t = tf.range(n)
        hist = tf.maximum(t[:, None] + tf.range(-WINDOW + 1, 1)[None], 0)
        chunk = tf.minimum(t[:, None] + tf.range(CHUNK)[None], n - 1)
        return {"image": tf.gather(steps["observation"]["image"], hist),
                "state": tf.gather((steps["observation"]["state"] - mean["proprio"]) / std["proprio"], hist),
                "action": tf.gather((steps["action"] - mean["action"]) / std["action"], chunk),
                "language_instruction": steps["language_instruction"]}

    def frame_map(frame):  # per frame: decode the window's JPEGs
        frame["image"] = tf.map_fn(lambda b: tf.io.decode_jpeg(b, channels=3), frame["image"],
                                   fn_output_signature=tf.uint8)
        return frame

    ds = (ds.repeat().map(traj_map, num_parallel_calls=tf.data.AUTOTUNE)
          .flat_map(tf.data.Dataset.from_tensor_slices).shuffle(10000, seed=0)
          .map(frame_map, num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH).prefetch(2))
    return _timed(ds.as_numpy_iterator(), batches)


def _timed(it, batches: int) -> tuple[float, float]:
    """(frames/s, CPU microseconds of this process per frame) over `batches` after the first.

    CPU time counts every thread of the process (ours and tf.data's), so it says what a frame
    costs even when other jobs share the cores and the wall-clock rate swings."""
    next(it)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        next(it)
    frames = batches * BATCH
    return frames / (time.perf_counter() - start), (time.process_time() - cpu) / frames * 1e6


def peak_rss_child(path: str, batches: int) -> dict:
    """Runs the loader in a fresh process; returns its peak RSS (MiB), sampled after every batch
    with psutil (ru_maxrss would carry the parent's peak over the exec on Linux)."""
    code = ("import sys, json, psutil; sys.path.insert(0, %r); "
            "from rldg_data.loaders import LoaderConfig, RLDSLoader; "
            "it = iter(RLDSLoader(%r, LoaderConfig(batch_size=64, window_buffer=1024))); p = psutil.Process(); "
            "peak = max(p.memory_info().rss for _ in range(%d) if next(it) is not None); "
            "print(json.dumps({'rss_mib': peak / 2**20}))") % (os.getcwd(), path, batches)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--batches", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        small = make_dataset(root, args.episodes)
        big = make_dataset(root, args.episodes * 10)
        (ref, ref_cpu), (mine, mine_cpu) = octo_style(big, args.batches), ours(big, args.batches)
        print(f"frames/s and CPU us/frame (batch {BATCH}, window {WINDOW}, chunk {CHUNK}, {SIZE}x{SIZE} JPEG):")
        print(f"  octo-style tf.data: {ref:8.0f} frames/s  {ref_cpu:6.1f} us/frame")
        print(f"  rldg_data.loaders:  {mine:8.0f} frames/s  {mine_cpu:6.1f} us/frame   "
              f"ratio {mine / ref:.2f}x (CPU per frame {ref_cpu / mine_cpu:.2f}x less)")
        print(f"  this process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        a, b = peak_rss_child(small, args.batches), peak_rss_child(big, args.batches)
        print(f"peak RSS of our loader: {args.episodes} episodes {a['rss_mib']:.0f} MiB, "
              f"{args.episodes * 10} episodes {b['rss_mib']:.0f} MiB (ratio {b['rss_mib'] / a['rss_mib']:.2f})")


if __name__ == "__main__":
    main()
