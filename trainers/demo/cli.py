"""`rldg demo`: the RLDG experiment end to end in simulation (calls `trainers.demo.pipeline.run_demo`)."""

from __future__ import annotations

import argparse
import signal
import sys
import textwrap
import time

DESCRIPTION = """\
Run the whole RLDG recipe on the embedded simulated task suite and write the paper's comparison:
  1. specialists for the seen insertion connectors, pick-and-place objects and the assembly
     bottleneck (insert) stage: the committed checkpoints, or --retrain to train them;
  2. specialist rollouts, human-proxy demonstrations (same number of successes per variant) and
     assembly hand-offs (human proxy for grasp/transport, specialist for the insertion);
  3. datasets with `tfds build`: RL-only, human-only, human with pauses removed, the RLDG mix
     (for assembly: the hand-offs, pauses removed from their human segments only) and the
     relabeling ablation (tiny, paper and full);
  4. one generalist per task family and dataset (the small profile: insertion and assembly;
     paper: one per training seed on the same dataset, to tell data effects from optimisation luck),
     evaluated on seen and unseen variants (success with 95% Wilson intervals; assembly on the
     whole task from the start, with the stages each episode finished); the specialist's
     bottleneck-only assembly data is reported N/A (not trained on the whole task), as in the
     paper; a data-efficiency sweep (tiny, paper and full; small with --efficiency);
  5. OUT/report.html, OUT/results.json, OUT/figures/ and a dataset report per dataset.
Every stage is cached under OUT/cache keyed by its inputs: a rerun skips finished work and an
interrupted run resumes where it stopped. Every command run is listed in OUT/commands.log."""

# One line per profile; the times are estimates from the stage counts and the per-stage costs
# measured on an idle 2-core AMD EPYC (trainers.demo.budget), not runs.
PROFILE_HELP = {
    "small": "default: insertion and assembly, 4 datasets, one training seed; measured: 22.9 min "
             "(`make demo` with its install: 24.7 min)",
    "paper": "all three families, the data-efficiency sweep, the relabel and pause ablations, unseen "
             "variants for every row, 3 training seeds per dataset, pick-and-place specialists beside "
             "generalists; measured: 2 h 32 min on an idle 2-core AMD EPYC (RESULTS.md)",
    "full": "paper scale (128 px, 20,000 steps): meant for a GPU",
    "tiny": "smoke test, numbers meaningless; the start-up of its ~120 commands, which the estimate "
            "leaves out, dominates (the end-to-end test: 10-45 min on 2 shared cores)",
}


PROFILE_NAMES = ("small", "paper", "full", "tiny")  # trainers.demo.profile.PROFILES (a test checks)
PROFILES_MARK = "{profiles}"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Puts the profiles' estimates into the description only when help is shown: registration
    must stay cheap (rldg_data.cli), and the estimate imports the profiles and the variant table."""

    def add_text(self, text):
        if text and PROFILES_MARK in text:
            text = text.replace(PROFILES_MARK, profiles_text())
        super().add_text(text)


def profiles_text() -> str:
    """The --help lines of the profiles, each with its estimated wall time on 2 idle cores."""
    from trainers.demo.budget import describe
    from trainers.demo.profile import PROFILES

    lines = ["Profiles, with their wall time on 2 idle CPU cores estimated from the stage counts and the",
             "per-stage costs measured in BENCHMARKS.md \"demo time budget\" (not runs; a loaded machine",
             "takes several times longer):"]
    for name, profile in PROFILES.items():
        lines += textwrap.wrap(PROFILE_HELP.get(name, ""), 96, break_on_hyphens=False, initial_indent=f"  {name:6s} {describe(profile):>8s}  ",
                               subsequent_indent=" " * 19)
    return "\n".join(lines)


def register_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the RLDG experiment end to end in simulation",
                       description=DESCRIPTION + "\n" + PROFILES_MARK, formatter_class=_HelpFormatter)
    p.add_argument("--profile", default="small", choices=PROFILE_NAMES,
                   help="how much data, training and evaluation (default small)")
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    p.add_argument("--retrain", action="store_true",
                   help="train the specialists from scratch instead of the committed checkpoints")
    p.add_argument("--seed", type=int,
                   help="seed of collection, recipes, training and evaluation (default: the profile's, 0); "
                        "runs with different seeds share no episode; a profile's training seeds move with it "
                        "(paper: seed, seed+1, seed+2)")
    p.add_argument("--efficiency", action="store_true",
                   help="also run the data-efficiency sweep (RL vs human episodes of one connector); "
                        "the small profile leaves it out to stay within 30 minutes, and a rerun with "
                        "this flag into the same --out adds only the sweep's stages")
    p.add_argument("--specialists", metavar="DIR",
                   help="folder of <task>-<variant> specialist checkpoints to start from "
                        "(default: the committed ones in trainers/demo/specialists)")
    p.set_defaults(func=_run_demo)


def _run_demo(args) -> int:
    from trainers.demo.stages import CHILDREN
    from trainers.demo.profile import get_profile

    profile = get_profile(args.profile, seed=args.seed, efficiency=True if args.efficiency else None)
    start = time.monotonic()
    CHILDREN.reset()

    # The commands run in their own process groups (their workers with them): a signal to this
    # process is passed on to all of them before it stops, instead of leaving them running.
    def terminate(signum, frame):
        CHILDREN.stop(signal.SIGTERM)
        raise SystemExit(128 + signum)

    def interrupt(signum, frame):
        CHILDREN.stop(signal.SIGINT)
        raise KeyboardInterrupt

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, terminate),
                signal.SIGINT: signal.signal(signal.SIGINT, interrupt)}
    try:
        results = _run_with_progress(profile, args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print(f"\nwrote {args.out}/report.html and {args.out}/results.json "
          f"({(time.monotonic() - start) / 60:.1f} min)\n")
    for row in results["paper_comparison"]:
        print(f"- {row['finding']}\n    paper: {row['paper']}\n    ours:  {row['ours']}")
    return 0


def _run_with_progress(profile, args) -> dict:
    from tqdm import tqdm

    from trainers.demo.pipeline import run_demo, stage_count

    with tqdm(total=stage_count(profile), unit="stage", desc="demo", file=sys.stderr, dynamic_ncols=True,
              bar_format="{desc} {n_fmt}/{total_fmt} stages | {elapsed} elapsed, ETA {remaining}{postfix}") as bar:
        def on_stage(name: str) -> None:
            bar.update(1)
            bar.set_postfix_str(f"now: {name}")
        kwargs = {"specialists": args.specialists} if args.specialists else {}
        return run_demo(profile, args.out, retrain=args.retrain, on_stage=on_stage, **kwargs)
