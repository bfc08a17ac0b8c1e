"""`rldg import`: bring data recorded by other tools into the contract (today: HIL-SERL pickles)."""

from __future__ import annotations

import argparse


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
            "Unpickling runs code stored in the file, so --trust-pickle is required."))
    h.add_argument("pickles", nargs="+", help="HIL-SERL .pkl files")
    h.add_argument("--out", required=True, help="data dir; the dataset goes to OUT/NAME/1.0.0")
    h.add_argument("--name", default="hil_serl", help="dataset name (default hil_serl)")
    h.add_argument("--trust-pickle", action="store_true",
                   help="I made or trust these files (unpickling can run arbitrary code)")
    h.add_argument("--source", choices=("rl", "human"), default="rl",
                   help="who acted where there was no intervention: rl (buffers, rollouts) or human (demos)")
    h.add_argument("--instruction", default="", help="language_instruction of every step")
    h.add_argument("--task", default="hil_serl", help="episode_metadata/task (default hil_serl)")
    h.add_argument("--variant", default="", help="episode_metadata/variant")
    h.add_argument("--split", choices=("seen", "unseen"), default="seen")
    h.add_argument("--wrist", action="store_true", help="write the second camera as observation/wrist_image")
    h.add_argument("--cameras", nargs="+", help="camera keys in order (main [wrist]); default: as stored")
    h.add_argument("--absolute-gripper", action="store_true",
                   help="the gripper command is already absolute: do not convert it")
    h.add_argument("--force", action="store_true", help="replace an existing dataset")
    h.set_defaults(func=_run_hil_serl)


def _run_hil_serl(args) -> int:
    from trainers.hil_serl import ImportOptions, import_hil_serl

    options = ImportOptions(instruction=args.instruction, source=args.source, task=args.task,
                            variant=args.variant, split=args.split, wrist=args.wrist,
                            cameras=tuple(args.cameras) if args.cameras else None,
                            relative_gripper=not args.absolute_gripper)
    path = import_hil_serl(args.pickles, args.out, options, name=args.name, trust_pickle=args.trust_pickle,
                           overwrite=args.force)
    print(f"wrote {path}")
    return 0
