"""`rldg mix RECIPE.yaml`: parses arguments and calls one library function."""

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
    from rldg_data.mix.pipeline import build_mix
    from rldg_data.mix.recipe import load_recipe

    path = build_mix(load_recipe(args.recipe), args.data_dir, _beam_options(args), overwrite=args.force)
    info = json.loads((path / "rldg_info.json").read_text())
    print(f"wrote {path}")
    print(f"episodes {info['num_episodes']}  steps {info['num_steps']}  recipe {info['recipe_hash'][:12]}  "
          f"digest {info['digest'][:12]}")
    for name, s in info["sources"].items():
        print(f"  {name}: {s['selected']}/{s['available']} selected, success {s['success_rate']:.1%}")
    return 0
