"""The mix's per-shard build vs its floor: copying the shard's TFRecord records (issue 35).

One build task of `rldg mix` (`mix.pipeline._BuildShard.process`, keep-all recipe, images left
encoded) reads a source shard, parses and checks every episode, stamps the recipe hash,
re-serializes it, writes it into its part (framing, sha256 for the digest, sidecar row) and
adds it to the train statistics. Its floor is copying the same records: read each frame (CRCs
checked) and write it to a new TFRecord file (`copy`). Every stage is timed as a cumulative
prefix of the task, so the difference between two rows is one stage's cost:

    copy        read + write of the same records (the floor; every ratio is against it)
    bytes       shutil.copyfile of the shard (the OS alone: no framing, no CRC)
    read        iter_records: the frames, CRCs checked, nothing written
    +parse      + decode_episode (images left as bytes)
    +check      + the contract check (codec.check_record, what the mix's reader runs)
    +serialize  + recipe hash stamped and the record re-serialized (codec.restamp of the parsed Example;
                before issue 35's change: encode_episode from the arrays, which the script falls back to)
    +write      + PartWriter.write (framing, sha256, file) and its sidecar row
    +stats      + statistics_arrays / StatsAccumulator.add_arrays / pack: the whole task, written here
    task        mix.pipeline._BuildShard.process itself (must match +stats)
    rldg mix    build_mix of the whole source in process (Beam, finalize), per shard

Rounds are interleaved (each round runs every variant over every shard, the order rotating);
per variant: wall and CPU ms per shard (means over rounds, 95% t-intervals) and their ratios to
`copy` in the same round (means of per-round ratios, 95% t-intervals), and the process's peak RSS
while it ran (psutil, sampled). On a loaded machine the CPU ratio is the measure (wall time then
includes waiting for a core); the load average is printed with the numbers.

    .venv/bin/python benchmarks/bench_mix_floor.py [--episodes 400] [--length 50] [--size 64] [--rounds 7]
    .venv/bin/python benchmarks/bench_mix_floor.py --write-source DIR ...   # then --source DIR/source/1.0.0
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from peak_rss import PeakRSS  # noqa: E402
from t_interval import mean_ci  # noqa: E402


def _variants(recipe, data_spec):
    """name -> fn(path, count, out_folder, task): one shard through a prefix of the build task."""
    from rldg_data.io.codec import check_record, decode_episode, encode_episode
    from rldg_data.io.records import RecordWriter, iter_records
    from rldg_data.mix import plan, shard_io
    from rldg_data.mix.pipeline import _BuildShard
    from rldg_data.stats.accumulators import StatsAccumulator
    from rldg_data.stats.beam import pack, stats_arrays

    encoding, recipe_hash = data_spec.image_encoding, recipe.hash
    try:  # the mix re-stamps an unchanged episode's parsed Example (issue 35)
        from rldg_data.io.codec import restamp
        from rldg_data.mix.shard_io import read_shard_examples

        def records(path, count):
            return read_shard_examples(path, count, data_spec, decode_images=False)

        def reserialize(ep, example):
            return ep.replace(recipe_hash=recipe_hash), restamp(example, recipe_hash)
    except ImportError:  # the code before: every episode encoded from its arrays
        def records(path, count):
            for index, record in iter_records(path, count):
                yield check_record(record, file=path, index=index, expected=data_spec, decode_images=False)[0], None

        def reserialize(ep, example):
            ep = ep.replace(recipe_hash=recipe_hash)
            return ep, encode_episode(ep, encoding)

    def copy(path, count, out, task):
        with RecordWriter(os.path.join(out, f"copy-{task:05d}.tfrecord")) as writer:
            for _, record in iter_records(path, count):
                writer.write(record)

    def raw_bytes(path, count, out, task):
        shutil.copyfile(path, os.path.join(out, f"bytes-{task:05d}.tfrecord"))

    def read(path, count, out, task):
        for _ in iter_records(path, count):
            pass

    def parse(path, count, out, task):
        for _, record in iter_records(path, count):
            decode_episode(record, file=path, decode_image_fields=False, expected=data_spec)

    def check(path, count, out, task):
        for index, record in iter_records(path, count):
            _, problems = check_record(record, file=path, index=index, expected=data_spec, decode_images=False)
            assert not problems

    def serialize(path, count, out, task):
        for ep, example in records(path, count):
            reserialize(ep, example)

    def prefix(with_stats: bool):
        def run(path, count, out, task):
            parts, train = shard_io.PartWriter(out, task), StatsAccumulator()
            for ep, example in records(path, count):
                ep, record = reserialize(ep, example)
                split = "val" if plan.is_val(recipe.seed, ep.episode_id, recipe.val_fraction) else "train"
                parts.write(split, ep.episode_id, record, shard_io.summary_of(ep, "s"))
                if with_stats and split == "train":
                    train.add_arrays(stats_arrays(ep))
            parts.close()
            if with_stats and train.num_trajectories:
                shard_io.write_bytes(out, f"stats-{task:05d}.bin", pack(train))
        return run

    def task_fn(path, count, out, task):
        fn = _BuildShard(recipe, data_spec, [plan.KEEP_ALL], [[]], out)
        fn.setup()
        fn.process((task, (0, path, count)))

    return {"copy": copy, "bytes": raw_bytes, "read": read, "+parse": parse, "+check": check,
            "+serialize": serialize, "+write": prefix(False), "+stats": prefix(True), "task": task_fn}


def write_source(folder: Path, episodes: int, length: int, size: int) -> Path:
    """bench_mix's synthetic JPEG episodes at `size` px, in shards of up to 8 MiB."""
    from bench_mix import synthetic_episodes
    from rldg_data.io.writer import write_dataset

    return write_dataset(synthetic_episodes(episodes, length, size), folder, "source", max_shard_bytes=8 << 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=400)
    ap.add_argument("--length", type=int, default=50)
    ap.add_argument("--size", type=int, default=64, help="image side in pixels (JPEG bytes per episode)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--source", type=Path, help="an existing contract dataset (else one is written)")
    ap.add_argument("--write-source", type=Path, metavar="DIR", help="only write the source into DIR")
    ap.add_argument("--no-mix", action="store_true", help="leave out the whole `rldg mix` build")
    args = ap.parse_args()

    from bench_mix import keep_all_recipe
    from rldg_data.io.reader import open_dataset
    from rldg_data.mix.pipeline import build_mix

    if args.write_source:
        print(write_source(args.write_source, args.episodes, args.length, args.size))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = args.source or write_source(tmp / "src", args.episodes, args.length, args.size)
        files = open_dataset(source)
        shards = [(str(p), n) for split in files.shards
                  for p, n in zip(files.shards[split], files.shard_lengths[split])]
        size = sum(os.path.getsize(p) for p, _ in shards)
        recipe = keep_all_recipe(source)
        variants = _variants(recipe, files.spec)
        if not args.no_mix:
            variants["rldg mix"] = None
        names = list(variants)
        times = {n: [] for n in names}
        cpus = {n: [] for n in names}
        peaks = {n: 0.0 for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                out = tmp / f"out-{r}-{names.index(name)}"
                out.mkdir()
                with PeakRSS() as rss:
                    t, c = time.perf_counter(), time.process_time()
                    if name == "rldg mix":
                        build_mix(recipe, out)
                    else:
                        for task, (path, count) in enumerate(shards):
                            variants[name](path, count, str(out), task)
                    seconds, cpu = time.perf_counter() - t, time.process_time() - c
                times[name].append(seconds / len(shards))
                cpus[name].append(cpu / len(shards))
                peaks[name] = max(peaks[name], rss.peak_mib)
                shutil.rmtree(out)
        load = os.getloadavg()
        episodes = sum(n for _, n in shards)
        print(f"mix build floor: {len(shards)} shards, {episodes} episodes ({size / episodes / 1e3:.0f} kB each), "
              f"{size / len(shards) / 2**20:.1f} MiB a shard, {args.rounds} interleaved rounds; load average {load[0]:.1f} / {load[1]:.1f} / "
              f"{load[2]:.1f} on {os.cpu_count()} cores")
        print("| stage (cumulative) | wall ms per shard | ratio to copy (wall) | CPU ms per shard | "
              "ratio to copy (CPU) | MB per CPU-s | peak RSS MiB |")
        print("|---|---|---|---|---|---|---|")
        for name in names:
            wall, whalf = mean_ci([1e3 * s for s in times[name]])
            ratio, rhalf = mean_ci([a / b for a, b in zip(times[name], times["copy"])])
            cpu, chalf = mean_ci([1e3 * s for s in cpus[name]])
            cratio, crhalf = mean_ci([a / b for a, b in zip(cpus[name], cpus["copy"])])
            mbs = size / len(shards) / 1e6 / (cpu / 1e3)
            print(f"| {name} | {wall:.1f} ± {whalf:.1f} | {ratio:.2f}x ± {rhalf:.2f} | {cpu:.1f} ± {chalf:.1f} | "
                  f"**{cratio:.2f}x** ± {crhalf:.2f} | {mbs:.0f} | {peaks[name]:.0f} |")
        print("(means over rounds ± the half-width of their 95% t-interval; ratios are means of per-round ratios;"
              " CPU is this process's, the Beam run's driver and in-process worker included)")


if __name__ == "__main__":
    main()
