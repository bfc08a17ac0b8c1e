"""`rldg generalist train|eval`: train our small generalist on contract datasets, evaluate it in
the simulated suite. Each subcommand parses arguments and calls one library function."""

from __future__ import annotations

import argparse
import json
import sys


def register_generalist(sub) -> None:
    from trainers.generalist.config import ENCODERS, GeneralistConfig

    d = GeneralistConfig()  # the train flags' defaults are the config's own
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
    t.add_argument("--out", required=True, help="checkpoint folder to write")
    t.add_argument("--steps", type=int, default=d.steps)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--image-size", type=int, default=d.image_size)
    t.add_argument("--window", type=int, default=d.window)
    t.add_argument("--chunk", type=int, default=d.chunk)
    t.add_argument("--wrist", action="store_true", help="also use the wrist camera")
    t.add_argument("--encoder", default=d.encoder, choices=ENCODERS,
                   help="image encoder: flattened conv map, or spatial-softmax keypoints")
    t.add_argument("--shift", type=int, default=d.shift,
                   help="random-shift augmentation while training: pad frames by this many pixels and "
                        "crop back at a random offset (0: off)")
    t.add_argument("--buffer", type=int, default=d.buffer,
                   help="windows in the shuffle buffer each batch is drawn from (default %(default)s)")
    t.add_argument("--channels", help=f"conv widths, comma-separated (default {','.join(map(str, d.channels))})")
    t.add_argument("--seed", type=int, default=d.seed)
    t.set_defaults(func=_run_train)
    e = actions.add_parser("eval", help="evaluate a checkpoint in the simulated suite")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--task", required=True, help="insertion, pick_place or assembly")
    e.add_argument("--variants", default="seen", help="seen, unseen, all, or comma-separated names")
    e.add_argument("--episodes", type=int, default=10, help="episodes per variant")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--max-steps", type=int, help="cap episodes below the task's limit (quick checks)")
    e.add_argument("--open-loop", action="store_true",
                   help="run each predicted action chunk to its end (decide every CHUNK steps) "
                        "instead of temporal ensembling")
    e.add_argument("--out", help="results JSON (a .md table is written beside it)")
    e.set_defaults(func=_run_eval)


def _run_train(args) -> int:
    from tqdm import tqdm

    from trainers.generalist.config import GeneralistConfig
    from trainers.generalist.train import train_generalist

    extra = {"channels": tuple(int(c) for c in args.channels.split(","))} if args.channels else {}
    config = GeneralistConfig(image_size=args.image_size, window=args.window, chunk=args.chunk,
                              wrist=args.wrist, steps=args.steps, batch_size=args.batch_size, seed=args.seed,
                              encoder=args.encoder, shift=args.shift, buffer=args.buffer, **extra)
    weights = [float(w) for w in args.weights.split(",")] if args.weights else None
    with tqdm(total=args.steps, unit="step", desc="train", disable=None, file=sys.stderr) as bar:
        def progress(step, loss):
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{loss:.4f}")
        out = train_generalist(args.dataset.split(","), args.out, config, weights=weights, progress=progress)
    print(f"checkpoint written to {out}")
    return 0


def _run_eval(args) -> int:
    from tqdm import tqdm

    from trainers.generalist.evaluate import evaluate_generalist, resolve_variants, results_table

    total = len(resolve_variants(args.task, args.variants)) * args.episodes
    with tqdm(total=total, unit="ep", desc="eval", disable=None, file=sys.stderr) as bar:
        results = evaluate_generalist(args.checkpoint, args.task, args.variants, args.episodes,
                                      seed=args.seed, out=args.out, max_steps=args.max_steps,
                                      open_loop=args.open_loop,
                                      progress=bar.update)
    print(results_table(results))
    if not args.out:
        print(json.dumps(results["splits"], indent=2))
    return 0
