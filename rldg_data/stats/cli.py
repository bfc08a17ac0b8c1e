"""`rldg stats DATASET [DATASET ...]`: parses arguments and calls one library function."""

from __future__ import annotations

import json


def register_stats(subparsers) -> None:
    p = subparsers.add_parser(
        "stats", help="compute dataset_statistics.json of a dataset (or of several, merged)",
        description="Compute action/proprio statistics (mean, std, min, max, p01/p99 for Octo, q01/q99 "
                    "and mask for OpenVLA, counts) of a contract dataset's train split (or --split), "
                    "the numbers the loaders normalize with, and write dataset_statistics.json beside "
                    "its data (another --split's go to dataset_statistics_SPLIT.json: the file the "
                    "loaders use always holds the train split's). With several datasets, their statistics are merged (as a loader over "
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
    from rldg_data.io.atomic import write_json_atomic
    from rldg_data.stats.accumulators import STATS_FILE
    from rldg_data.stats.dataset import compute_dataset_statistics, dataset_statistics

    if args.out:
        stats = dataset_statistics(args.dataset, args.split)
        where = write_json_atomic(args.out, stats)
    elif len(args.dataset) == 1:
        from rldg_data.io.reader import open_dataset
        from rldg_data.stats.dataset import statistics_file_name

        stats = compute_dataset_statistics(args.dataset[0], args.split)
        where = statistics_file_name(args.split, list(open_dataset(args.dataset[0]).shards))
        if where != STATS_FILE:
            where += f" ({STATS_FILE}, which loaders normalize with, was left as it was)"
    else:
        stats, where = dataset_statistics(args.dataset, args.split), None
    if args.show:
        print(json.dumps(stats, indent=2))
    print(f"{stats['num_trajectories']} episodes, {stats['num_steps']} steps, "
          f"{stats['num_transitions']} transitions (steps with an action) of {described_splits(args.dataset, args.split)}"
          + (f": wrote {where}" if where else " (not written: give --out FILE)"))
    return 0


def described_splits(paths, split) -> str:
    """Which split the statistics describe, in words: `split 'train'` or `all splits (train, val)`
    (per dataset when they differ), so counts are not read as the whole dataset's."""
    from rldg_data.io.reader import open_dataset
    from rldg_data.stats.dataset import default_split

    if split is not None:
        return f"split {split!r}"
    words = []
    for path in paths:
        splits = sorted(open_dataset(path).shards)
        chosen = default_split(splits)
        words.append(f"split {chosen!r}" + (f" (of {', '.join(splits)}; --split to choose)" if len(splits) > 1 else "")
                     if chosen else f"all splits ({', '.join(splits)})")
    return words[0] if len(set(words)) == 1 else "; ".join(f"{p}: {w}" for p, w in zip(paths, words))
