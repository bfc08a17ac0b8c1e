"""`rldg mix RECIPE.yaml` and `rldg stats DATASET`: each parses arguments and calls one library function."""

from __future__ import annotations

import argparse
import json

MIX_DESCRIPTION = """\
Build the dataset a YAML recipe describes: read its source datasets, filter, deduplicate,
select by weights or counts (deterministic: hash of seed + episode_id), relabel, split into
train/val, and write an RLDS TFDS dataset with dataset_statistics.json (Octo + OpenVLA layouts,
whole mix and per source) and a dataset card (README.md), via an Apache Beam pipeline.

Runners: DirectRunner by default; --workers N runs N local processes; --dask ADDRESS runs on a
dask.distributed scheduler; --beam-options passes any Beam flags (Dataflow, Flink, Spark: see
docs/SCALING.md)."""


def register_mix(subparsers) -> None:
    p = subparsers.add_parser("mix", help="build a mixed dataset from a YAML recipe (Apache Beam)",
                              description=MIX_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recipe", help="recipe YAML file")
    p.add_argument("--data-dir", "--data_dir", dest="data_dir", required=True, help="output folder; the dataset goes to DATA_DIR/NAME/VERSION")
    p.add_argument("--workers", type=int, default=1, help="DirectRunner worker processes (default 1)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on the DaskRunner against this scheduler address")
    p.add_argument("--beam-options", default=None,
                   help="Beam pipeline options as 'k=v,k=v' (overrides --workers/--dask)")
    p.add_argument("--force", action="store_true", help="replace an existing dataset")
    p.set_defaults(func=_run_mix)


def _beam_options(args):
    if args.beam_options:
        return args.beam_options
    if args.dask:
        return ["--runner=DaskRunner", f"--dask_client_address={args.dask}"]
    if args.workers > 1:
        return ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
    return None


def _run_mix(args) -> int:
    from rldg_data.beam.mix import build_mix
    from rldg_data.recipe import load_recipe

    path = build_mix(load_recipe(args.recipe), args.data_dir, _beam_options(args), overwrite=args.force)
    info = json.loads((path / "rldg_info.json").read_text())
    print(f"wrote {path}")
    print(f"episodes {info['num_episodes']}  steps {info['num_steps']}  recipe {info['recipe_hash'][:12]}  "
          f"digest {info['digest'][:12]}")
    for name, s in info["sources"].items():
        print(f"  {name}: {s['selected']}/{s['available']} selected, success {s['success_rate']:.1%}")
    return 0


def register_stats(subparsers) -> None:
    p = subparsers.add_parser(
        "stats", help="compute dataset_statistics.json of a dataset (or of several, merged)",
        description="Compute action/proprio statistics (mean, std, min, max, p01/p99 for Octo, q01/q99 "
                    "and mask for OpenVLA, counts) of a contract dataset's train split (or --split), "
                    "the numbers the loaders normalize with, and write dataset_statistics.json beside "
                    "its data. With several datasets, their statistics are merged (as a loader over "
                    "all of them computes them) and written only to --out. Actions are counted at "
                    "the steps that have one (RLDS: the last step of an episode holds the final "
                    "observation and no action): num_transitions; states at every step: num_steps.")
    p.add_argument("dataset", nargs="+", help="dataset folder(s) (version folder or its parent)")
    p.add_argument("--split", default=None, help="split to use (default: train if present, else all)")
    p.add_argument("--out", default=None, help="write the statistics JSON here instead (any number of "
                   "datasets); with one dataset and no --out it goes beside the data")
    p.add_argument("--print", dest="show", action="store_true", help="also print the statistics JSON")
    p.set_defaults(func=_run_stats)


def _run_stats(args) -> int:
    from rldg_data.stats import (STATS_FILE, compute_dataset_statistics, dataset_statistics,
                                 write_json_atomic)

    if args.out:
        stats = dataset_statistics(args.dataset, args.split)
        where = write_json_atomic(args.out, stats)
    elif len(args.dataset) == 1:
        stats = compute_dataset_statistics(args.dataset[0], args.split)
        where = STATS_FILE
    else:
        stats, where = dataset_statistics(args.dataset, args.split), None
    if args.show:
        print(json.dumps(stats, indent=2))
    print(f"{stats['num_trajectories']} episodes, {stats['num_steps']} steps, "
          f"{stats['num_transitions']} transitions (steps with an action)"
          + (f": wrote {where}" if where else " (not written: give --out FILE)"))
    return 0
