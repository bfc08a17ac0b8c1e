"""Loader throughput and memory: rldg_data.loaders (no TensorFlow; alone, and as a torch trainer
runs it: torch imported, batches through `torch_dataset` and a DataLoader) vs the same loader as it was
(frames decoded by a compiled TensorFlow graph, records parsed by TensorFlow's example_pb2) and
vs a plain tf.data RLDS pipeline written as Octo's dlimp-based loader does it (trajectory map:
normalize + window/chunk gather; flatten to frames; shuffle buffer; per-frame JPEG decode; batch).
Same data, same run, each measurement in a fresh process (so one's imports do not inflate another's
memory), rounds interleaved; rates are the mean of the rounds with a 95% t-interval.

    .venv/bin/python benchmarks/bench_loader.py [--episodes 200] [--batches 100] [--rounds 3]
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
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402
from t_interval import mean_ci  # noqa: E402

BATCH, WINDOW, CHUNK, SIZE, LENGTH = 64, 2, 4, 64, 50


def make_dataset(root: str, episodes: int) -> str:
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    eps = (make_episode(f"b-{i}", length=LENGTH, image_size=SIZE, seed=i) for i in range(episodes))
    return str(write_dataset(eps, root, f"bench{episodes}"))


def _config():
    from rldg_data.loaders import LoaderConfig

    return LoaderConfig(batch_size=BATCH, window=WINDOW, chunk=CHUNK, window_buffer=1024, num_workers=2)


def ours(path: str):
    from rldg_data.loaders import RLDSLoader

    return iter(RLDSLoader(path, _config()))


def ours_torch(path: str):
    """What a torch trainer runs: the loader through `torch_dataset` and a DataLoader."""
    import torch

    from rldg_data.loaders import RLDSLoader, torch_dataset

    torch.set_num_threads(1)
    return iter(torch.utils.data.DataLoader(torch_dataset(RLDSLoader(path, _config())), batch_size=None))


def tf_reference(path: str):
    """The loader before issue 15: same pipeline, but records parsed by TensorFlow's generated
    example_pb2 and frames decoded by the compiled TensorFlow graph it used (64 frames a call)."""
    import tensorflow as tf
    from tensorflow.core.example import example_pb2

    from rldg_data.io import codec
    from rldg_data.loaders import RLDSLoader

    codec.Example = example_pb2.Example  # the generated TF class, as the codec imported it before
    call = 64

    def one(blob):
        return tf.io.decode_image(blob, channels=3, expand_animations=False)

    @tf.function(input_signature=[tf.TensorSpec([call], tf.string), tf.TensorSpec([], tf.int32)])
    def graph(blobs, count):
        first = one(blobs[0])
        rest = [tf.cond(i < count, lambda i=i: one(blobs[i]), lambda: tf.zeros_like(first)) for i in range(1, call)]
        return tf.stack([first] + rest)[:count]

    decoder = graph.get_concrete_function()

    def tf_decode(blobs, size=None):
        blobs = list(blobs)
        parts = []
        for start in range(0, len(blobs), call):
            part = blobs[start:start + call]
            count = len(part)
            part = part + [part[0]] * (call - count)
            parts.append(decoder(tf.constant(part, tf.string), tf.constant(count, tf.int32)).numpy())
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    import rldg_data.loaders.pipeline as pipeline

    pipeline.decode_images = tf_decode
    return iter(RLDSLoader(path, _config()))


def octo_style(path: str):
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from rldg_data.stats.dataset import dataset_statistics

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
    return ds.as_numpy_iterator()


KINDS = {"ours": ours, "ours_torch": ours_torch, "tf_reference": tf_reference, "octo_style": octo_style}


def child(kind: str, path: str, batches: int) -> None:
    """Runs one loader in this (fresh) process; prints frames/s, CPU us/frame, peak RSS (psutil,
    sampled after every batch) and whether TensorFlow was imported."""
    import psutil

    proc = psutil.Process()
    it = KINDS[kind](path)
    next(it)
    peak = proc.memory_info().rss
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        next(it)
        peak = max(peak, proc.memory_info().rss)
    frames = batches * BATCH
    print(json.dumps({"fps": frames / (time.perf_counter() - start),
                      "cpu_us": (time.process_time() - cpu) / frames * 1e6, "rss_mib": peak / 2 ** 20,
                      "tensorflow": "tensorflow" in sys.modules}))


def run_child(kind: str, path: str, batches: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, path, str(batches)],
                         capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=REPO))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "BATCHES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, batches = args.child
        return child(kind, path, int(batches))
    with tempfile.TemporaryDirectory() as root:
        path = make_dataset(root, args.episodes)
        results = {kind: [] for kind in KINDS}
        for _ in range(args.rounds):
            for kind in KINDS:
                results[kind].append(run_child(kind, path, args.batches))
    print(f"{args.episodes} episodes x {LENGTH} steps, batch {BATCH}, window {WINDOW}, chunk {CHUNK}, "
          f"{SIZE}x{SIZE} JPEG; {args.batches} batches per run, n={args.rounds} runs each, interleaved")
    base = np.mean([r["fps"] for r in results["tf_reference"]])
    for kind, runs in results.items():
        fps, ci = mean_ci([r["fps"] for r in runs])
        cpu = np.mean([r["cpu_us"] for r in runs])
        rss = max(r["rss_mib"] for r in runs)
        tf_loaded = any(r["tensorflow"] for r in runs)
        print(f"  {kind:13s} {fps:8.0f} ± {ci:5.0f} frames/s (x{fps / base:.2f} of tf_reference)  "
              f"{cpu:6.1f} us CPU/frame  peak RSS {rss:5.0f} MiB  tensorflow imported: {tf_loaded}")


if __name__ == "__main__":
    main()
