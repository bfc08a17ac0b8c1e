"""`rldg show` and `rldg report`: each parses its arguments and calls one library function.

Registration stays cheap (argparse only); matplotlib, TensorFlow and rich load inside the command.
"""

from __future__ import annotations

import argparse
import sys


def register_show(sub) -> None:
    p = sub.add_parser(
        "show",
        help="print a dataset's summary tables in the terminal",
        description=(
            "Read a TFDS contract dataset once (no image decoding) and print rich tables: episodes, "
            "steps and success rate; per source (episodes, steps, success, median length, action "
            "smoothness); per task/variant; and the action/state statistics of the train split (the "
            "numbers `rldg stats` writes and the loaders normalize with; a stale "
            "dataset_statistics.json is flagged). Steps count every step of an episode, "
            "transitions the steps with an action (the last step has none)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="dataset folder (<data_dir>/<name>/<version>, or <data_dir>/<name>)")
    p.add_argument("--no-stats", action="store_true", help="leave out the statistics table")
    p.set_defaults(func=_run_show)


def _run_show(args) -> int:
    from tqdm import tqdm

    from rldg_data.io.reader import open_dataset
    from viz.terminal import show_dataset

    total = open_dataset(args.path).num_episodes
    with tqdm(total=total, unit="ep", desc="read", disable=None, file=sys.stderr, leave=False) as bar:
        show_dataset(args.path, statistics=not args.no_stats, progress=bar.update)
    return 0


def register_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write every figure of a dataset and an HTML page to a folder",
        description=(
            "Write a dataset report into --out: composition, success per variant, length and "
            "cycle-time histograms, action distributions, speed profile and smoothness per source "
            "(PNG), a filmstrip, MP4 and GIF of sample episodes per source with source and stage "
            "overlaid, card.md (the figure section of a dataset card), summary.json and index.html "
            "(static, works offline: open it in a browser). --out must be new or empty; --force "
            "replaces an earlier report there (only while it holds nothing else)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="dataset folder (<data_dir>/<name>/<version>, or <data_dir>/<name>)")
    p.add_argument("--out", required=True, help="report folder to write")
    p.add_argument("--samples", type=int, default=1, help="sample episodes per source (default 1)")
    p.add_argument("--video", choices=("mp4", "gif", "none"), default="mp4",
                   help="episode video format beside the GIF shown in the page (default mp4)")
    p.add_argument("--fps", type=int, default=10, help="video frame rate (default 10)")
    p.add_argument("--viewer", default="auto",
                   help="link each sample to its `rldg view` page: 'auto' (default) finds a running "
                        "viewer of this dataset, '' links none, or a viewer's URL")
    p.add_argument("--force", action="store_true", help="replace an earlier `rldg report` in --out")
    p.set_defaults(func=_run_report)


def _run_report(args) -> int:
    from tqdm import tqdm

    from rldg_data.io.reader import open_dataset
    from viz.report import ReportConfig, build_report

    config = ReportConfig(samples_per_source=args.samples, video=args.video, fps=args.fps,
                          viewer=args.viewer)
    total = open_dataset(args.path).num_episodes
    with tqdm(total=total, unit="ep", desc="report", disable=None, file=sys.stderr) as bar:
        report = build_report(args.path, args.out, config, progress=bar.update, force=args.force)
    print(f"wrote {report.html} ({len(report.figures)} figures, {len(report.episode_files)} episodes)")
    return 0


def register_view(sub) -> None:
    p = sub.add_parser(
        "view",
        help="browse a dataset's episodes and scrub any one in the browser (local web app)",
        description=(
            "Serve a local web app over one or more contract datasets (e.g. a mix and its sources): "
            "a table of every episode (source, policy, variant, split, success, length, stages, "
            "steps per source), sortable, filterable and paged; an episode page with every camera, a "
            "scrubber, play/pause at the dataset's rate, time-aligned plots of each action and state "
            "dimension, reward, discount, stage and who acted (hand-off visible), keyboard stepping "
            "(left/right, space); and two episodes scrubbed in lockstep. Episodes are read one at a "
            "time from the shards (no TensorFlow), so memory stays flat with dataset size. Binds "
            "127.0.0.1; another address needs --allow-remote (no authentication: it warns)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="dataset folder(s) (<data_dir>/<name>/<version>, or <data_dir>/<name>)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (anyone reaching it can read the datasets)")
    p.add_argument("--fps", type=float, default=None,
                   help="playback rate (default: the dataset's metadata.json fps, else 80)")
    p.add_argument("--no-index-cache", action="store_true",
                   help="index every shard now instead of reusing the rows kept for unchanged shards "
                        "($RLDG_VIEW_CACHE, else ~/.cache/rldg-view)")
    p.set_defaults(func=_run_view)


def _run_view(args) -> int:
    import logging
    import time

    from viz.view import index_cache, registry
    from viz.view.server import ViewConfig, Viewer

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = ViewConfig(host=args.host, port=args.port, allow_remote=args.allow_remote, fps=args.fps,
                        index_cache=None if args.no_index_cache else str(index_cache.default_dir()))
    started = time.perf_counter()
    viewer = Viewer(args.paths, config)
    took = time.perf_counter() - started
    index = viewer.index
    for problem in index.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"indexed {len(index)} episodes of {len(index.datasets)} dataset(s) in {took:.2f} s", flush=True)
    note = registry.announce(viewer.url, [d.files.path for d in index.datasets])
    print(f"rldg view: serving {viewer.url} (Ctrl-C to stop)", flush=True)
    try:
        viewer.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        registry.withdraw(note)
        viewer.httpd.server_close()
    return 0
