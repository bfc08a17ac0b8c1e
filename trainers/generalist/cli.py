"""`rldg generalist train|eval`: train our small generalist on contract datasets, evaluate it in
the simulated suite. Each subcommand parses arguments and calls one library function."""

from __future__ import annotations

import argparse
import json
import sys


# GeneralistConfig fields offered as `rldg generalist train` flags (their help and defaults are the
# config's own); the rest keep the config's defaults.
TRAIN_FLAGS = ("steps", "batch_size", "image_size", "window", "chunk", "wrist", "encoder", "shift", "buffer",
               "seed", "learning_rate", "threads")


def register_generalist(sub) -> None:
    from rldg_data.cli_options import add_dataclass_options
    from trainers.generalist.config import ENCODERS, GeneralistConfig

    d = GeneralistConfig()
    p = sub.add_parser(
        "generalist", help="train / evaluate the built-in generalist policy",
        description=(
            "Train the toolkit's small image + proprio + language-conditioned generalist (torch, CPU) "
            "on one dataset or a mix (behaviour cloning of action chunks, normalized with the data's "
            "statistics), or evaluate a checkpoint in the simulated suite on seen/unseen variants "
            "(success rate, median cycle time; JSON and a Markdown table)."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = actions.add_parser("train", help="train a checkpoint on datasets")
    t.add_argument("--dataset", required=True, help="dataset folder(s), comma-separated for a mix")
    t.add_argument("--weights", help="mix weights, comma-separated (default: by episode count)")
    t.add_argument("--out", required=True, help="checkpoint folder to write (new or empty)")
    t.add_argument("--force", action="store_true", help="replace an earlier checkpoint this command wrote in --out")
    add_dataclass_options(t, GeneralistConfig, TRAIN_FLAGS, choices={"encoder": ENCODERS})
    t.add_argument("--channels", dest="channels_csv", help=f"conv widths, comma-separated (default {','.join(map(str, d.channels))})")
    t.set_defaults(func=_run_train)
    e = actions.add_parser("eval", help="evaluate a checkpoint in the simulated suite")
    e.add_argument("--checkpoint", help="our generalist's checkpoint (or --policy)")
    e.add_argument("--policy", help="octo:CHECKPOINT: an Octo checkpoint (a run folder Octo's finetune.py "
                   "saved), served from Octo's own Python (--octo-python) over a loopback socket")
    e.add_argument("--octo-python", help="Python of an Octo install (for --policy octo:...)")
    e.add_argument("--exec-horizon", type=int, default=0,
                   help="Octo: actions executed per predicted chunk (default: the whole chunk, "
                        "as Octo's RHCWrapper in its eval example)")
    e.add_argument("--image-size", type=int, default=64,
                   help="Octo: simulator camera size (Octo resizes to its checkpoint's; default %(default)s)")
    e.add_argument("--no-wrist", action="store_true", help="Octo: render no wrist camera")
    e.add_argument("--task", required=True, help="insertion, pick_place or assembly")
    e.add_argument("--variants", default="seen", help="seen, unseen, all, or comma-separated names")
    e.add_argument("--episodes", type=int, default=10, help="episodes per variant")
    e.add_argument("--seen-episodes", type=int,
                   help="episodes per seen variant instead (default: --episodes); episode i resets with "
                        "SEED + i, so the first --episodes of them are the same episodes either way")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--max-steps", type=int, help="cap episodes below the task's limit (quick checks)")
    e.add_argument("--open-loop", action="store_true",
                   help="run each predicted action chunk to its end (decide every CHUNK steps) "
                        "instead of temporal ensembling")
    e.add_argument("--out", help="results JSON (a .md table is written beside it); an existing file is "
                                 "refused unless --force and it is an earlier `rldg generalist eval` result")
    e.add_argument("--force", action="store_true",
                   help="replace the results JSON and table an earlier `rldg generalist eval` wrote at --out")
    e.set_defaults(func=_run_eval)


def _run_train(args) -> int:
    from tqdm import tqdm

    from rldg_data.cli_options import from_args
    from trainers.generalist.config import GeneralistConfig
    from trainers.generalist.train import train_generalist

    extra = {"channels": tuple(int(c) for c in args.channels_csv.split(","))} if args.channels_csv else {}
    config = from_args(GeneralistConfig, args, **extra)
    weights = [float(w) for w in args.weights.split(",")] if args.weights else None
    with tqdm(total=args.steps, unit="step", desc="train", disable=None, file=sys.stderr) as bar:
        def progress(step, loss):
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{loss:.4f}")
        out = train_generalist(args.dataset.split(","), args.out, config, weights=weights, progress=progress,
                               force=args.force)
    print(f"checkpoint written to {out}")
    return 0


def _run_eval(args) -> int:
    from tqdm import tqdm

    from rldg_data.errors import ConfigError
    from trainers.generalist.evaluate import (episodes_per_variant, evaluate_generalist, resolve_variants,
                                              results_table)

    if (args.checkpoint is None) == (args.policy is None):
        raise ConfigError("give exactly one of --checkpoint (our generalist) and --policy octo:CHECKPOINT")
    if args.out:
        _check_out(args.out, args.force)
    if args.policy is not None:
        if args.seen_episodes is not None:
            raise ConfigError("--seen-episodes is for our generalist's --checkpoint; an Octo policy is "
                              "evaluated on --episodes per variant")
        return _run_eval_octo(args, len(resolve_variants(args.task, args.variants)) * args.episodes)
    total = sum(episodes_per_variant(args.task, resolve_variants(args.task, args.variants), args.episodes,
                                     args.seen_episodes).values())
    with tqdm(total=total, unit="ep", desc="eval", disable=None, file=sys.stderr) as bar:
        results = evaluate_generalist(args.checkpoint, args.task, args.variants, args.episodes,
                                      seen_episodes=args.seen_episodes, seed=args.seed, out=args.out,
                                      max_steps=args.max_steps, open_loop=args.open_loop, progress=bar.update)
    print(results_table(results))
    if not args.out:
        print(json.dumps(results["splits"], indent=2))
    return 0


EVAL_COMMAND = "rldg generalist eval"
RESULT_KEYS = ("task", "seed", "variants", "splits", "checkpoint")  # what evaluate_generalist/evaluate_octo write


def _check_out(out: str, force: bool) -> None:
    """Before any episode runs: --out (and the .md table beside it) must be new, or with --force
    this command's earlier result; nothing else is replaced."""
    from pathlib import Path

    from rldg_data.io.outputs import check_output_file, json_holding

    own = json_holding(RESULT_KEYS)
    out = Path(out)
    check_output_file(out, EVAL_COMMAND, force=force, is_own=own)
    check_output_file(out.with_suffix(".md"), EVAL_COMMAND, force=force, is_own=lambda _: own(out))


def _run_eval_octo(args, total: int) -> int:
    from tqdm import tqdm

    from rldg_data.errors import ConfigError
    from trainers.generalist.evaluate import results_table
    from trainers.octo_policy import evaluate_octo

    kind, _, checkpoint = args.policy.partition(":")
    if kind != "octo" or not checkpoint:
        raise ConfigError(f"--policy {args.policy!r}: expected octo:CHECKPOINT")
    if args.open_loop:
        raise ConfigError("--open-loop is for our generalist; Octo executes --exec-horizon actions per chunk")
    with tqdm(total=total, unit="ep", desc="eval", disable=None, file=sys.stderr) as bar:
        results = evaluate_octo(checkpoint, args.octo_python, args.task, args.variants, args.episodes,
                                seed=args.seed, image_size=args.image_size, wrist=not args.no_wrist,
                                exec_horizon=args.exec_horizon, max_steps=args.max_steps, out=args.out,
                                progress=bar.update)
    print(results_table(results))
    if not args.out:
        print(json.dumps(results["splits"], indent=2))
    return 0
