"""Benchmark: `rldg_mix` (rldg_data.mix.pipeline) vs a plain per-episode TFDS generator builder.

1. Throughput (steps/s, 64x64 JPEG episodes) of building the same dataset from the same source
   episodes: the plain pattern (kpertsch/rlds_dataset_builder: a GeneratorBasedBuilder yielding
   per-step dicts of decoded numpy frames, TFDS encodes them) vs `build_mix` (JPEG bytes passed
   through, whole-episode serialization), both in one process, as a ratio measured in one run.
2. Peak RSS of `build_mix` at 1,000 vs 10,000 episodes (each in a fresh child process).

    .venv/bin/python benchmarks/bench_mix.py [--episodes 1000] [--length 50] [--rss-length 10]

3. `--tfds-vs-mix`: `tfds build builders/rldg_mix` vs `rldg mix` on the same recipe, each as the
   user runs it (a fresh process), wall and CPU seconds (children's rusage) and bytes written.
   `--tree DIR` runs another checkout's builder and library (e.g. the commit before one build).
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
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def synthetic_episodes(n: int, length: int, size: int = 64, seed: int = 0):
    from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps

    rng = np.random.default_rng(seed)
    base = np.add.outer(np.arange(size), np.arange(size)).astype(np.float32)
    for i in range(n):
        frames = np.stack([np.stack([(base * 2 + 7 * t + i) % 256] * 3, -1) for t in range(length)]).astype(np.uint8)
        actions = rng.uniform(-1, 1, (length, 4)).astype(np.float32)
        steps = make_steps(images=frames, states=rng.normal(size=(length, 4)).astype(np.float32), actions=actions,
                           language_instruction="insert the peg", source=("rl", "human")[i % 2])
        yield Episode(steps, EpisodeMetadata(f"ep-{i}", "insertion", "vga", "seen", "p", bool(i % 3), 0.0, length, i))


def write_source(folder: Path, n: int, length: int) -> Path:
    from rldg_data.io.writer import write_dataset

    return write_dataset(synthetic_episodes(n, length), folder, "source", max_shard_bytes=8 << 20)


def keep_all_recipe(source: Path, name: str = "bench_mix"):
    from rldg_data.mix.recipe import recipe_from_dict

    return recipe_from_dict({"name": name, "seed": 0, "val_fraction": 0.05,
                             "sources": {"rl": {"path": str(source)}}}, "/")


def plain_tfds_build(source: Path, out: Path) -> None:
    """The common rlds_dataset_builder pattern: yield per-step dicts of numpy arrays; TFDS encodes."""
    import tensorflow_datasets as tfds

    from rldg_data.contract import spec, tfds_json
    from rldg_data.io.reader import iter_episodes, open_dataset

    data_spec = open_dataset(source).spec

    class PlainBuilder(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds_json.features_for(data_spec))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            for ep in iter_episodes(source, validate=False):
                s = ep.steps
                steps = [{"observation": {"image": s[spec.IMAGE][t], "state": s[spec.STATE][t]},
                          "action": s[spec.ACTION][t], "reward": s[spec.REWARD][t], "discount": s[spec.DISCOUNT][t],
                          "is_first": s[spec.IS_FIRST][t], "is_last": s[spec.IS_LAST][t],
                          "is_terminal": s[spec.IS_TERMINAL][t],
                          "language_instruction": str(s[spec.LANGUAGE_INSTRUCTION][t]),
                          "source": str(s[spec.SOURCE][t]), "stage": s[spec.STAGE][t]} for t in range(len(ep))]
                yield ep.episode_id, {"steps": steps, "episode_metadata": ep.metadata.to_dict()}

    PlainBuilder.name = "plain_bench"
    PlainBuilder(data_dir=str(out)).download_and_prepare(
        download_config=tfds.download.DownloadConfig(verify_ssl=False))


def rss_child(n: int, length: int, work: str) -> None:
    """In a fresh process: measure build_mix's peak RSS alone (another process writes the source)."""
    subprocess.run([sys.executable, __file__, "--write-source", str(n), str(length), work], check=True)
    from rldg_data.mix.pipeline import build_mix
    from rldg_data.io.reader import resolve_dataset_dir

    source = resolve_dataset_dir(Path(work) / "src" / "source")
    from peak_rss import PeakRSS

    with PeakRSS() as rss:
        t = time.perf_counter()
        build_mix(keep_all_recipe(source), Path(work) / "out")
        seconds = time.perf_counter() - t
    print(json.dumps({"episodes": n, "seconds": seconds, "rss_before_mib": rss.before_mib,
                      "peak_rss_mib": rss.peak_mib}))


# `rldg mix`'s library call, in whichever layout the tree has (before/after the core layout move).
_BUILD_MIX = """import sys
try:
    from rldg_data.mix.pipeline import build_mix; from rldg_data.mix.recipe import load_recipe
except ImportError:
    from rldg_data.beam.mix import build_mix; from rldg_data.recipe import load_recipe
build_mix(load_recipe(sys.argv[1]), sys.argv[2])
"""


def tfds_vs_mix(episodes: int, length: int, tree: Path, runs: int) -> None:
    """`tfds build builders/rldg_mix` and `rldg mix` of one recipe, each in a fresh process."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree / "builders"), str(tree)]))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = write_source(tmp / "src", episodes, length)
        recipe = tmp / "bench_tfds.yaml"
        recipe.write_text(f"name: bench_tfds\nseed: 0\nval_fraction: 0.05\nsources: {{rl: {{path: {source}}}}}\n")
        commands = {
            "tfds build builders/rldg_mix": [sys.executable, "-m", "tensorflow_datasets.scripts.cli.main", "build",
                                             str(tree / "builders" / "rldg_mix"), "--config", "custom"],
            "rldg mix (build_mix)": [sys.executable, "-c", _BUILD_MIX, str(recipe)],
        }
        results = {}
        for run in range(runs):
            for name, argv in commands.items():
                out = tmp / f"out-{run}-{name.split()[0]}"
                argv = argv + ["--data_dir" if name.startswith("tfds") else "", str(out)]
                argv = [a for a in argv if a]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                subprocess.run(argv, check=True, env=dict(env, RLDG_MIX_RECIPE=str(recipe)), cwd=tmp,
                               capture_output=True)
                wall = time.perf_counter() - t
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                written = (after.ru_oublock - before.ru_oublock) * 512
                results.setdefault(name, []).append((wall, cpu, written))
        steps = episodes * length
        print(f"tfds build vs rldg mix ({episodes} episodes x {length} steps, 64x64 JPEG; tree {tree}; {runs} run(s);"
              f" load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
        for name, rows in results.items():
            wall, cpu, written = (min(r[i] for r in rows) for i in range(3))
            print(f"  {name:<30} {wall:6.1f} s wall (best)  {cpu:6.1f} s CPU  {steps / cpu:7.0f} steps per CPU-s"
                  f"  {written / 2**20:7.1f} MiB written")
        t, m = (min(r[1] for r in results[k]) for k in commands)
        print(f"  CPU ratio tfds build / rldg mix: {t / m:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--length", type=int, default=50)
    ap.add_argument("--rss-length", type=int, default=10)
    ap.add_argument("--rss-sizes", default="1000,10000")
    ap.add_argument("--tfds-vs-mix", action="store_true", help="time tfds build vs rldg mix (see above)")
    ap.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--rss-child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--write-source", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_source:
        write_source(Path(args.write_source[2]) / "src", int(args.write_source[0]), int(args.write_source[1]))
        return
    if args.tfds_vs_mix:
        tfds_vs_mix(args.episodes, args.length, args.tree, args.runs)
        return
    if args.rss_child:
        rss_child(int(args.rss_child[0]), int(args.rss_child[1]), args.rss_child[2])
        return
    from rldg_data.mix.pipeline import build_mix

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = write_source(tmp / "src", args.episodes, args.length)
        steps = args.episodes * args.length
        t = time.perf_counter()
        plain_tfds_build(source, tmp / "plain")
        plain = time.perf_counter() - t
        t = time.perf_counter()
        build_mix(keep_all_recipe(source), tmp / "mix")
        mix = time.perf_counter() - t
        print(f"throughput ({args.episodes} episodes x {args.length} steps, 64x64 JPEG, 1 process):")
        print(f"  plain TFDS generator builder: {steps / plain:8.0f} steps/s ({plain:.1f} s)")
        print(f"  rldg_mix (DirectRunner):      {steps / mix:8.0f} steps/s ({mix:.1f} s)")
        print(f"  ratio rldg_mix / plain:       {plain / mix:8.2f}x")
        print(f"  peak RSS of this process:     {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    results = []
    for n in [int(x) for x in args.rss_sizes.split(",")]:
        with tempfile.TemporaryDirectory() as work:
            out = subprocess.run([sys.executable, __file__, "--rss-child", str(n), str(args.rss_length), work],
                                 check=True, capture_output=True, text=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
            r = results[-1]
            print(f"rldg_mix {n} episodes x {args.rss_length} steps: {r['seconds']:.1f} s, "
                  f"peak RSS {r['peak_rss_mib']:.0f} MiB (RSS after imports, before the build: {r['rss_before_mib']:.0f} MiB)")
    if len(results) >= 2:
        print(f"peak RSS ratio {results[-1]['episodes']} / {results[0]['episodes']} episodes: "
              f"{results[-1]['peak_rss_mib'] / results[0]['peak_rss_mib']:.3f}")


if __name__ == "__main__":
    main()
