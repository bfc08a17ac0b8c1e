"""The core's own `rldg` subcommands. Each parses arguments and calls one library function."""

from __future__ import annotations

import argparse
import json
import sys


def register_validate(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="check a dataset against the RLDS contract",
        description=(
            "Read every episode of a TFDS dataset folder and check it against the RLDS contract "
            "(its fields: rldg_data/contract/spec.py): shapes, dtypes, finite values, is_first/is_last, action bounds, "
            "sources, metadata, unique episode ids, shard integrity. Prints a summary (episodes, "
            "steps, sources, variants, success rate) and every violation with its file, episode "
            "and field. Exit status: 0 valid, 1 violations found, 2 not a dataset."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="dataset folder (<data_dir>/<name>/<version>, or <data_dir>/<name>)")
    p.add_argument("--json", action="store_true", help="print the summary and violations as JSON")
    p.add_argument("--max-violations", type=int, default=1000, help="stop after this many (default 1000)")
    p.set_defaults(func=_run_validate)


def _run_validate(args) -> int:
    from tqdm import tqdm

    from rldg_data.io.reader import open_dataset
    from rldg_data.validation.validate import validate_dataset

    total = open_dataset(args.path).num_episodes
    with tqdm(total=total, unit="ep", desc="validate", disable=None, file=sys.stderr) as bar:
        report = validate_dataset(args.path, progress=bar.update, max_violations=args.max_violations)
    if args.json:
        print(json.dumps({"summary": report.summary.to_dict(),
                          "violations": [str(v) for v in report.violations]}, indent=2))
    else:
        print(format_summary(report.summary))
        if report.violations:
            print(f"\n{len(report.violations)} contract violation(s):")
            for v in report.violations:
                print(f"  - {v}")
        else:
            print("\nOK: no contract violations")
    return 0 if report.ok else 1


def format_summary(summary) -> str:
    def counts(counter) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(counter.items())) or "-"

    return "\n".join([
        f"dataset   {summary.name} {summary.version}  ({summary.path})",
        f"episodes  {summary.episodes}  ({counts(summary.episodes_by_dataset_split)})",
        f"steps     {summary.steps}  ({summary.transitions} transitions: the last step of an "
        "episode has no action)",
        f"sources   {counts(summary.steps_by_source)} (steps)",
        f"variants  {counts(summary.episodes_by_variant)}",
        f"splits    {counts(summary.episodes_by_split)}",
        f"success   {summary.success_rate:.1%} ({summary.successes}/{summary.episodes})",
    ])


def register_ls(sub) -> None:
    p = sub.add_parser(
        "ls", help="list the datasets in a data folder",
        description="List every dataset under DATA_DIR (up to <builder>/<config>/<version>, as `tfds build "
                    "--data_dir` lays them out): name, config (a mix's recipe name), version, episodes per "
                    "split and what built it. Reads metadata only.")
    p.add_argument("data_dir", nargs="?", default="data", help="the data folder (default: data)")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=_run_ls)


def _run_ls(args) -> int:
    from rldg_data.validation.listing import find_datasets, format_listing, listing_json

    datasets = find_datasets(args.data_dir)
    print(json.dumps(listing_json(datasets), indent=2) if args.json else format_listing(datasets, args.data_dir))
    return 0
