"""`rldg specialist`: train an RL specialist on a simulated task variant, or evaluate a checkpoint."""

from __future__ import annotations

import argparse
import json
import os
import sys

SINGLE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def register_specialist(sub) -> None:
    p = sub.add_parser(
        "specialist", help="train or evaluate an RL specialist (SAC + demos, JAX)",
        description="RL specialists: SAC with a 50/50 online/demonstration buffer (RLPD), a BC term "
                    "on demonstrations and a high update-to-data ratio, as HIL-SERL trains them, on "
                    "the privileged state of a robot_io task variant.")
    cmds = p.add_subparsers(dest="specialist_command", metavar="ACTION", required=True)
    t = cmds.add_parser(
        "train", help="train one specialist and keep its best checkpoint",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Train a specialist on TASK/VARIANT: fill the demo buffer (N human-proxy demos, or the\n"
            "episodes of --demo-dataset), run SAC, evaluate every --eval-every env steps (strict\n"
            "success rate, median steps to success), keep the best checkpoint in --out, stop at the\n"
            "time limit or once success has held at --success-threshold for --patience evaluations.\n"
            "--out gets policy.json, actor.npz (no pickle) and curve.json/curve.csv."))
    from rldg_data.cli_options import add_dataclass_options
    from trainers.specialist.config import SACConfig, TrainConfig

    t.add_argument("--task", required=True, help=f"robot_io task ({', '.join(_tasks())})")
    t.add_argument("--variant", required=True, help="variant of the task (see `rldg collect --help`)")
    t.add_argument("--out", required=True, help="checkpoint folder to write (new or empty)")
    t.add_argument("--force", action="store_true", help="replace an earlier checkpoint this command wrote in --out")
    # Defaults and help below come from the config dataclasses (one source): see TrainConfig/SACConfig.
    add_dataclass_options(t, TrainConfig, [
        "demos", "demo_dataset", "demonstrator", "minutes", "clock", "max_env_steps", "eval_every",
        "eval_episodes", "success_threshold", "confirm_episodes", "patience", "start_steps", "step_cost"],
        choices={"demonstrator": ("human", "expert"), "clock": ("wall", "cpu")})
    t.add_argument("--start-stage", default="0", help="stage to start episodes at, or 'bottleneck'")
    add_dataclass_options(t, TrainConfig, ["seed"])
    add_dataclass_options(t, SACConfig, ["hidden", "batch_size", "utd_ratio"], names={"utd_ratio": "--utd"})
    add_dataclass_options(t, TrainConfig, ["update_every"])
    add_dataclass_options(t, SACConfig, ["bc_weight", "discount", "demo_fraction", "q_weight", "normalize_q",
                                         "init_temperature"])
    t.add_argument("--obs-features", choices=("offsets", "raw", "normalized"), default="offsets",
                   help="offsets: hand-to-object and task-point-to-goal offsets, heights, gripper "
                        "(default; robot_io's 17-d privileged state); raw: the privileged state as "
                        "it is; normalized: standardised raw state plus the offsets")
    t.add_argument("--no-mc-bound", action="store_true",
                   help="plain TD targets (default: at least the discounted return collected)")
    t.add_argument("--bc-on-idle", action="store_true",
                   help="also imitate demo steps without hand motion (default: skipped)")
    add_dataclass_options(t, TrainConfig, ["action_repeat", "imitate_successes"])
    t.add_argument("--threads", type=int, default=1, help="CPU threads for XLA (default 1)")
    t.set_defaults(func=_run_train)
    e = cmds.add_parser("eval", help="evaluate a checkpoint (success rate, steps to success)",
                        description="Roll a specialist checkpoint out deterministically on its task variant.")
    e.add_argument("checkpoint")
    e.add_argument("--episodes", type=int, default=50)
    e.add_argument("--seed", type=int, default=2_000_000)
    e.add_argument("--variant", help="evaluate on this variant of the checkpoint's task instead of its "
                                     "own (e.g. an unseen connector)")
    e.add_argument("--out", help="also write the result as JSON to this file (an existing file is refused "
                                 "unless --force and it is an earlier `rldg specialist eval` result)")
    e.add_argument("--force", action="store_true",
                   help="replace the result an earlier `rldg specialist eval` wrote at --out")
    e.set_defaults(func=_run_eval)


def _tasks() -> tuple[str, ...]:
    from robot_io.sim.registry import TASKS  # the one list of tasks (no MuJoCo import)

    return TASKS


def _int_option(option: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        from rldg_data.errors import ConfigError

        raise ConfigError(f"{option}: expected an integer or 'bottleneck', got {value!r}") from None


def _threads(n: int) -> None:
    if n == 1 and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = SINGLE_THREAD_XLA


def config_from_args(args) -> "TrainConfig":
    """The TrainConfig of parsed `rldg specialist train` arguments (unset options: the dataclass defaults)."""
    from rldg_data.cli_options import from_args
    from trainers.specialist.config import SACConfig, TrainConfig

    sac = from_args(SACConfig, args, normalize_obs=args.obs_features == "normalized",
                    relative_obs=args.obs_features == "normalized", offset_obs=args.obs_features == "offsets",
                    mc_lower_bound=not args.no_mc_bound)
    start_stage = -1 if args.start_stage == "bottleneck" else _int_option("--start-stage", args.start_stage)
    return from_args(TrainConfig, args, start_stage=start_stage, bc_skip_idle=not args.bc_on_idle, sac=sac)


def _run_train(args) -> int:
    _threads(args.threads)
    from tqdm import tqdm

    from trainers.specialist.train import train_specialist

    config = config_from_args(args)
    with tqdm(total=config.max_env_steps, unit="step", desc="specialist", disable=None, file=sys.stderr) as bar:
        def progress(row: dict) -> None:
            bar.update(row["env_steps"] - bar.n)
            bar.set_postfix(success=row["success_rate"], steps=row["median_steps_to_success"])

        result = train_specialist(config, progress=progress, force=args.force)
    print(json.dumps({"checkpoint": str(result.checkpoint), "stopped": result.stopped,
                      "env_steps": result.env_steps, "seconds": round(result.seconds, 1),
                      "best": result.best}, indent=2))
    return 0


def _run_eval(args) -> int:
    from trainers.specialist.checkpoint import load_policy, read_meta
    from trainers.specialist.envs import robot_io_env_factory
    from trainers.specialist.evaluate import evaluate_on_env

    if args.out:  # before the episodes run: a refused --out must not cost an evaluation
        from rldg_data.io.outputs import check_output_file, json_holding

        check_output_file(args.out, "rldg specialist eval", force=args.force,
                          is_own=json_holding(("task", "variant", "trained_on", "start_stage")))
    meta = read_meta(args.checkpoint)
    variant = args.variant or meta["variant"]
    env = robot_io_env_factory(meta["task"], variant)(args.seed)
    try:
        result = evaluate_on_env(env, load_policy(args.checkpoint), args.episodes, args.seed,
                                 int(meta.get("start_stage", 0)))
    finally:
        env.close()
    text = json.dumps({"task": meta["task"], "variant": variant, "trained_on": meta["variant"],
                       "start_stage": int(meta.get("start_stage", 0)), **result.to_dict()}, indent=2)
    if args.out:
        from rldg_data.io.atomic import write_text_atomic

        write_text_atomic(args.out, text)
    print(text)
    return 0
