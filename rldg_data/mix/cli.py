"""`rldg mix RECIPE.yaml`: parses arguments and calls one library function."""

from __future__ import annotations

import argparse
import gc
import json
import sys

MIX_DESCRIPTION = """\
Build the dataset a YAML recipe describes: read its source datasets, filter, deduplicate,
select by weights or counts (deterministic: hash of seed + episode_id), relabel, split into
train/val, and write an RLDS TFDS dataset with dataset_statistics.json (Octo + OpenVLA layouts,
whole mix and per source) and a dataset card (README.md), via an Apache Beam pipeline.

The recipe format, every key with an example: docs/RECIPES.md. The same recipe builds through
TFDS as `tfds build builders/rldg_mix --config RECIPE.yaml --data_dir D` (one build, same data).
A progress bar on stderr counts the source shards each pass (plan, build) has done; it stays
silent when stderr is not a terminal (a log file, CI).

Runner: Beam's FnApiRunner in this process by default (pinned: Beam's DirectRunner would first
try to download the Prism runner; nothing here downloads anything); --workers N runs the
FnApiRunner with N local worker processes, forked from one process that imports Beam and the mix
code while this one starts (RLDG_MIX_FORKED_WORKERS=0: Beam starts each as a new interpreter,
~1 s more per worker); --dask ADDRESS runs Beam's DaskRunner on a
dask.distributed scheduler (start its workers with `dask worker --preload rldg_data.mix.dask_worker
ADDRESS`, so they import the mix code once, not in every mix); --beam-options passes any Beam flags (Dataflow, Flink, Spark: see
docs/SCALING.md)."""


def register_mix(subparsers) -> None:
    p = subparsers.add_parser("mix", help="build a mixed dataset from a YAML recipe (Apache Beam)",
                              description=MIX_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recipe", help="recipe YAML file")
    p.add_argument("--data-dir", "--data_dir", dest="data_dir", required=True, help="output folder; the dataset goes to DATA_DIR/NAME/VERSION")
    p.add_argument("--workers", type=int, default=1,
                   help="local worker processes of the FnApiRunner (default 1: in this process)")
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
    from rldg_data.mix.recipe import load_recipe

    recipe = load_recipe(args.recipe)  # a broken recipe fails in a second, before Beam and TF load
    options = _beam_options(args)
    if "multi_processing" in str(options):
        from rldg_data.mix.runner import zygote

        zygote.prestart()  # the workers' zygote imports Beam while this process does
    from tqdm import tqdm

    from rldg_data.mix.pipeline import build_mix, work_units

    gc.freeze()  # the imports' objects: each full collection rescanned them all (BENCHMARKS.md)
    # one bar over both passes' source-shard tasks (plan, then build); silent when stderr is not a terminal
    with tqdm(total=work_units(recipe), unit="shard", desc="mix", disable=None, file=sys.stderr) as bar:
        path = build_mix(recipe, args.data_dir, options, overwrite=args.force, progress=bar.update)
    info = json.loads((path / "rldg_info.json").read_text())
    print(f"wrote {path}")
    print(f"episodes {info['num_episodes']}  steps {info['num_steps']}  recipe {info['recipe_hash'][:12]}  "
          f"digest {info['digest'][:12]}")
    for name, s in info["sources"].items():
        removed = s.get("steps_removed", 0)
        trimmed = (f", relabels removed {removed} steps ({s['steps'] + removed} -> {s['steps']})" if removed else "")
        print(f"  {name}: {s['selected']}/{s['available']} selected, success {s['success_rate']:.1%}{trimmed}"
              f"{why_not_all(name, info)}")
    return 0


def why_not_all(name: str, info: dict) -> str:
    """Why a source gave fewer episodes than passed its filters (weights, counts, duplicates), or ''.

    `available` counts the episodes that pass the source's filters and are not duplicates of an
    earlier-listed source; `selected` is what weights or counts kept of them."""
    sources, recipe = info["sources"], {s["name"]: s for s in info["recipe"]["sources"]}
    s, cfg = sources[name], recipe[name]
    notes = []
    if s["selected"] < s["available"]:
        if cfg.get("count") is not None:
            notes.append(f"count {cfg['count']}")
        elif cfg.get("weight") is not None:
            total = sum(r["weight"] for r in recipe.values())
            full = [n for n, o in sources.items() if o["selected"] >= o["available"] and n != name]
            limit = f", and {', '.join(full)} gave all it has" if full else ""
            notes.append(f"weight {cfg['weight']:g} of {total:g}: {s['available'] - s['selected']} left out to keep "
                         f"the recipe's proportions{limit}")
    if s["duplicates_dropped"]:
        notes.append(f"{s['duplicates_dropped']} episode ids already in an earlier source dropped")
    return f" ({'; '.join(notes)})" if notes else ""
