"""`rldg export lerobot DATASET --out DIR`: parses arguments and calls `export_lerobot`."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Write a contract dataset (a TFDS folder from `tfds build` or `rldg mix`) as a LeRobot v3.0
dataset, laid out as LeRobot's own writer does: meta/info.json, meta/stats.json,
meta/tasks.parquet, meta/episodes/chunk-000/file-000.parquet, data/chunk-XXX/file-XXX.parquet and
one MP4 per camera under videos/observation.images.<camera>/. Per-step source and stage, reward,
discount and terminal flags are extra frame columns; episode metadata (id, task, variant, split,
policy, success, seed, recipe hash) are `episode_metadata/*` columns of meta/episodes.
Streams episode by episode (memory bounded by one episode) and writes atomically.
Load it with LeRobot: LeRobotDataset(repo_id, root=DIR)."""


def register_export(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a dataset to another format (lerobot)",
                              description="Export a contract dataset to another format.")
    formats = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    lr = formats.add_parser("lerobot", help="LeRobot v3.0 (parquet + mp4)", description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    lr.add_argument("dataset", help="contract dataset folder (<data_dir>/<name>/<version> or its parent)")
    lr.add_argument("--out", required=True, help="LeRobot dataset folder to write")
    from rldg_data.cli_options import add_dataclass_options
    from rldg_data.exports.lerobot import ExportConfig
    from rldg_data.io.video import CODECS

    add_dataclass_options(lr, ExportConfig, ["fps", "vcodec", "crf", "gop", "encoder_threads", "robot_type"],
                          choices={"vcodec": CODECS})
    lr.add_argument("--force", action="store_true", help="replace an earlier `rldg export lerobot` output at --out (never anything else)")
    lr.set_defaults(func=_run_export_lerobot)


def _run_export_lerobot(args) -> int:
    import sys

    from tqdm import tqdm

    from rldg_data.cli_options import from_args
    from rldg_data.io.reader import open_dataset
    from rldg_data.exports.lerobot import ExportConfig, export_lerobot

    config = from_args(ExportConfig, args, overwrite=args.force)
    total = open_dataset(args.dataset).num_episodes
    with tqdm(total=total, unit="ep", desc="export", disable=None, file=sys.stderr) as bar:
        summary = export_lerobot(args.dataset, args.out, config, progress=bar.update)
    print(f"wrote {summary.path}: {summary.episodes} episodes, {summary.frames} frames, "
          f"{summary.data_files} data file(s), {summary.video_files} video file(s) "
          f"in {summary.seconds:.1f} s ({summary.frames / max(summary.seconds, 1e-9):.0f} frames/s)")
    return 0
