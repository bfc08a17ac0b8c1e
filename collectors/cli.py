"""The collectors' commands: `rldg collect` (record rollouts and demonstrations into envlogger logs,
calls `collect.collect`) and `rldg import` (other tools' recordings into a contract dataset, calls
`hil_serl.import_hil_serl`)."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Roll out a policy or demonstrator on a robot_io task and record every episode as an envlogger
(Riegeli) log with RLDS-contract provenance: per step who acted (source: rl, human, scripted,
intervention) and the task stage; per episode task, variant, split, policy_id, success and seed.

--policy is `expert` (scripted), `human` (the human proxy), a specialist checkpoint folder, or a
`module:function` factory. --handoff human-first lets the human proxy drive the easy stages and
hands over to --policy at the bottleneck stage (policy-first: the reverse); --intervene-with
expert|human lets that demonstrator take over when the policy errs (steps labelled intervention).

Episodes are split over --workers spawned processes, each in OUT/worker-XXX/ with its own seeds
(seed + episode index). Each finished episode is committed atomically: a killed run keeps every
finished episode, and running the same command again records only the missing ones.
A rerun into the same --out with the same configuration (other --episodes or --workers allowed)
resumes or tops up; another configuration (task, variant, policy, seed, image size, ...) is refused,
naming what differs, unless --append records it into OUT/run-<hash>/ beside the others.
`rldg collect --list` shows the tasks, variants and policies.
Build a dataset with:  tfds build builders/rldg_rollouts --data_dir D --manual_dir OUT"""


def register_collect(sub) -> None:
    p = sub.add_parser("collect", help="record rollouts / demonstrations into envlogger logs",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list", action="store_true", help="list tasks, variants and policies, then exit")
    p.add_argument("--task", help="robot_io task (insertion, pick_place, assembly; see --list)")
    p.add_argument("--variant", help="task variant (see --list)")
    p.add_argument("--policy", help="expert | human | CHECKPOINT_DIR | module:function")
    p.add_argument("--episodes", type=int, help="number of episodes to record (in total in OUT)")
    p.add_argument("--out", help="log folder (OUT/worker-XXX/ep-NNNNNN/)")
    p.add_argument("--append", action="store_true",
                   help="OUT holds another configuration: record this one into OUT/run-<hash>/")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--seed", type=int, default=0, help="episode i uses seed+i (default 0)")
    p.add_argument("--image-size", type=int, default=64, help="camera resolution (default 64)")
    p.add_argument("--wrist", action="store_true", help="also record the wrist camera")
    p.add_argument("--handoff", choices=["human-first", "policy-first"], default="",
                   help="hand-off between the human proxy and --policy at the bottleneck stage")
    p.add_argument("--start-stage", type=int, default=0,
                   help="start every episode at the hand-off state of this stage (default 0: the "
                        "beginning); e.g. a bottleneck specialist's own rollouts of assembly")
    p.add_argument("--intervene-with", choices=["expert", "human"], default="",
                   help="demonstrator that takes over when the policy errs")
    p.add_argument("--intervene-threshold", type=float, default=0.5,
                   help="take over when |policy - demonstrator| (xyz, max) exceeds this (default 0.5)")
    p.add_argument("--intervene-steps", type=int, default=10,
                   help="steps the demonstrator keeps control per intervention (default 10)")
    p.add_argument("--robot", default="", metavar="URL|CONFIG.json",
                   help="record through a HIL-SERL robot server (real, or `python -m robot_io.sim.server`) "
                        "instead of the in-process simulator; see collectors/robot.py")
    p.add_argument("--env-factory", default="", help=argparse.SUPPRESS)
    p.add_argument("--demonstrator-factory", default="", help=argparse.SUPPRESS)
    p.set_defaults(func=_run_collect)


def list_choices() -> str:
    """Tasks with their seen / unseen variants, and the forms --policy takes."""
    from robot_io.sim.registry import TASKS, variants

    lines = ["tasks and variants (seen: in training data; unseen: held out for evaluation):"]
    for task in TASKS:
        lines.append(f"  {task}")
        for split in ("seen", "unseen"):
            lines.append(f"    {split:7s} {', '.join(variants(task, split))}")
    lines += ["policies (--policy; --intervene-with takes the first two):",
              "  expert           the scripted expert",
              "  human            the human proxy (pauses, noise, slower)",
              "  CHECKPOINT_DIR   a specialist checkpoint folder (rldg specialist train --out)",
              "  module:function  a factory called as function(env, seed=)"]
    return "\n".join(lines)


def _run_collect(args) -> int:
    from tqdm import tqdm

    from collectors.collect import CollectConfig, collect
    from rldg_data.errors import RldgError

    if args.list:
        print(list_choices())
        return 0
    missing = [f"--{k}" for k in ("task", "variant", "policy", "episodes", "out") if getattr(args, k) is None]
    if missing:
        raise RldgError(f"missing {', '.join(missing)} (rldg collect --help; --list shows the choices)")

    config = CollectConfig(
        task=args.task, variant=args.variant, policy=args.policy, episodes=args.episodes,
        out=args.out, workers=args.workers, seed=args.seed, image_size=args.image_size,
        wrist=args.wrist, handoff=args.handoff, start_stage=args.start_stage, intervene_with=args.intervene_with,
        intervene_threshold=args.intervene_threshold, intervene_steps=args.intervene_steps,
        env_factory=args.env_factory, demonstrator_factory=args.demonstrator_factory, robot=args.robot)
    with tqdm(total=config.episodes, unit="ep", desc="collect", disable=None, file=sys.stderr) as bar:
        if config.robot:
            from collectors.robot import collect_robot

            summary = collect_robot(config, progress=lambda msg: bar.update(1))
        else:
            summary = collect(config, progress=lambda msg: bar.update(1), append=args.append)
    sources = ", ".join(f"{k}={v}" for k, v in sorted(summary.steps_by_source.items())) or "-"
    rate = summary.successes / summary.recorded if summary.recorded else 0.0
    print(f"recorded {summary.recorded} episodes ({summary.skipped} already there) in {summary.out}\n"
          f"steps {summary.steps} ({summary.transitions} transitions)  steps by source {sources}  "
          f"success {rate:.1%}" + (" (this run)" if summary.skipped else ""))
    if summary.skipped:
        total, wins = summary.folder_outcomes()
        print(f"folder: {total} episodes, success {wins / total if total else 0.0:.1%} ({wins}/{total})")
    return 0


def register_import(sub) -> None:
    p = sub.add_parser(
        "import", help="convert other tools' recordings into a contract dataset",
        description="Convert recordings made by other tools into an RLDS contract dataset.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    h = kinds.add_parser(
        "hil-serl", help="HIL-SERL demo / buffer / rollout pickles",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Convert HIL-SERL pickles (flat lists of transition dicts) into one contract dataset:\n"
            "episodes split at `dones`, the history axis dropped, steps with\n"
            "infos['intervene_action'] marked as `intervention` (with that action), and the\n"
            "relative gripper command (-1 close / 0 hold / +1 open) converted to absolute (+1 open).\n"
            "Unpickling runs code stored in the file, so --trust-pickle is required.\n"
            "The same import as a TFDS build: tfds build builders/hil_serl --manual_dir PICKLES\n"
            "(see builders/hil_serl/README.md)."))
    h.add_argument("pickles", nargs="+", help="HIL-SERL .pkl files")
    h.add_argument("--out", required=True, help="data dir; the dataset goes to OUT/NAME/1.0.0")
    h.add_argument("--name", default="hil_serl", help="dataset name (default hil_serl)")
    h.add_argument("--trust-pickle", action="store_true",
                   help="I made or trust these files (unpickling can run arbitrary code)")
    from rldg_data.imports.hil_serl import ImportOptions  # light: numpy and the core's contract
    from rldg_data.cli_options import add_dataclass_options

    add_dataclass_options(h, ImportOptions, ["source", "instruction", "task", "variant", "split", "wrist", "cameras"],
                          choices={"source": ("rl", "human"), "split": ("seen", "unseen")})
    h.add_argument("--absolute-gripper", action="store_true",
                   help="the gripper command is already absolute: do not convert it")
    h.add_argument("--force", action="store_true", help="replace an existing dataset")
    h.set_defaults(func=_run_hil_serl)
    lr = kinds.add_parser(
        "lerobot", help="a LeRobot v3.0 dataset folder (as LeRobot 0.4.x writes it)",
        description=("Convert a LeRobot v3.0 dataset folder (meta/info.json, meta/tasks.parquet, meta/episodes/, "
                     "data/, videos/) into one contract dataset, validated before anything is written; "
                     "the same import as `tfds build builders/lerobot_import --manual_dir DIR` "
                     "(see builders/lerobot_import/README.md for the mapping YAML)."))
    lr.add_argument("folder", help="the LeRobot dataset folder (the one holding meta/info.json)")
    lr.add_argument("--out", required=True, help="data dir; the dataset goes to OUT/NAME/1.0.0")
    lr.add_argument("--name", default="lerobot_import", help="dataset name (default lerobot_import)")
    lr.add_argument("--mapping", default=None, help="mapping YAML (state, image, action, defaults)")
    lr.add_argument("--force", action="store_true", help="replace an existing dataset")
    lr.set_defaults(func=_run_lerobot_import)


def _run_hil_serl(args) -> int:
    from rldg_data.imports.hil_serl import ImportOptions, import_hil_serl
    from rldg_data.cli_options import from_args

    options = from_args(ImportOptions, args, relative_gripper=not args.absolute_gripper)
    path = import_hil_serl(args.pickles, args.out, options, name=args.name, trust_pickle=args.trust_pickle,
                           overwrite=args.force)
    print(f"wrote {path}")
    return 0


def _run_lerobot_import(args) -> int:
    from tqdm import tqdm

    from rldg_data.imports.lerobot import import_lerobot

    with tqdm(unit="ep", desc="import", disable=None, file=sys.stderr) as bar:
        path = import_lerobot(args.folder, args.out, args.mapping, name=args.name, overwrite=args.force,
                              progress=bar.update)
    print(f"wrote {path}")
    return 0
