"""`rldg stats DATASET`: parses arguments and calls one library function."""

from __future__ import annotations

import json


def register_stats(subparsers) -> None:
    p = subparsers.add_parser(
        "stats", help="compute dataset_statistics.json of a dataset",
        description="Compute action/proprio statistics (mean, std, min, max, p01/p99 for Octo, q01/q99 "
                    "and mask for OpenVLA, counts) of a contract dataset's train split (or --split) "
                    "and write dataset_statistics.json beside its data.")
    p.add_argument("dataset", help="dataset folder (version folder or its parent)")
    p.add_argument("--split", default=None, help="split to use (default: train if present, else all)")
    p.add_argument("--print", dest="show", action="store_true", help="also print the statistics JSON")
    p.set_defaults(func=_run_stats)


def _run_stats(args) -> int:
    from rldg_data.stats.accumulators import compute_dataset_statistics

    stats = compute_dataset_statistics(args.dataset, args.split)
    if args.show:
        print(json.dumps(stats, indent=2))
    print(f"{stats['num_trajectories']} episodes, {stats['num_transitions']} transitions: "
          f"wrote dataset_statistics.json")
    return 0
