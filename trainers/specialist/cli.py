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
    t.add_argument("--task", required=True)
    t.add_argument("--variant", required=True)
    t.add_argument("--out", required=True, help="checkpoint folder to write")
    t.add_argument("--demos", type=int, default=20, help="demonstrations for the buffer (default 20)")
    t.add_argument("--demo-dataset", help="contract dataset to take demos from (default: collect live)")
    t.add_argument("--demonstrator", choices=("human", "expert"), default="human",
                   help="who gives live demos (default: the human proxy)")
    t.add_argument("--minutes", type=float, default=15.0, help="wall-clock limit (default 15)")
    t.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="what --minutes limits: wall time, or this process's CPU time (shared machines)")
    t.add_argument("--max-env-steps", type=int, default=200_000)
    t.add_argument("--eval-every", type=int, default=5_000, help="env steps between evaluations")
    t.add_argument("--eval-episodes", type=int, default=20)
    t.add_argument("--success-threshold", type=float, default=0.95,
                   help="stop once evaluations reach this success rate --patience times in a row")
    t.add_argument("--confirm-episodes", type=int, default=30,
                   help="episodes added to an evaluation that reaches the threshold before it counts")
    t.add_argument("--patience", type=int, default=2, help="evaluations at the threshold before stopping")
    t.add_argument("--start-steps", type=int, default=1_000, help="random-action steps first")
    t.add_argument("--step-cost", type=float, default=0.01,
                   help="reward cost per decision: shorter cycles, no standing still (default 0.01; 0: sparse)")
    t.add_argument("--start-stage", default="0", help="stage to start episodes at, or 'bottleneck'")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    t.add_argument("--batch-size", type=int, default=256)
    t.add_argument("--utd", type=int, default=1, help="critic updates per decision")
    t.add_argument("--update-every", type=int, default=10,
                   help="decisions between jitted update calls (same UTD, fewer dispatches)")
    t.add_argument("--bc-weight", type=float, default=1.0, help="BC term on demo samples (0: off)")
    t.add_argument("--discount", type=float, default=0.97,
                   help="per decision (default 0.97, as HIL-SERL at 10 Hz; use 0.99 with --action-repeat 1)")
    t.add_argument("--demo-fraction", type=float, default=0.5, help="share of each batch from demos")
    t.add_argument("--q-weight", type=float, default=2.5, help="weight of the -Q term in the actor loss")
    t.add_argument("--normalize-q", action=argparse.BooleanOptionalAction, default=True,
                   help="divide the actor's Q term by the batch's mean |Q|, as TD3+BC (default on)")
    t.add_argument("--init-temperature", type=float, default=0.1)
    t.add_argument("--obs-features", choices=("offsets", "raw", "normalized"), default="offsets",
                   help="offsets: hand-to-object and task-point-to-goal offsets, heights, gripper "
                        "(default; robot_io's 17-d privileged state); raw: the privileged state as "
                        "it is; normalized: standardised raw state plus the offsets")
    t.add_argument("--no-mc-bound", action="store_true",
                   help="plain TD targets (default: at least the discounted return collected)")
    t.add_argument("--bc-on-idle", action="store_true",
                   help="also imitate demo steps without hand motion (default: skipped)")
    t.add_argument("--action-repeat", type=int, default=4,
                   help="control steps each action is held (default 4: decide at 20 Hz, not 80 Hz)")
    t.add_argument("--imitate-successes", action=argparse.BooleanOptionalAction, default=False,
                   help="the BC term also imitates the agent's own successful episodes (default off)")
    t.add_argument("--threads", type=int, default=1, help="CPU threads for XLA (default 1)")
    t.set_defaults(func=_run_train)
    e = cmds.add_parser("eval", help="evaluate a checkpoint (success rate, steps to success)",
                        description="Roll a specialist checkpoint out deterministically on its task variant.")
    e.add_argument("checkpoint")
    e.add_argument("--episodes", type=int, default=50)
    e.add_argument("--seed", type=int, default=2_000_000)
    e.add_argument("--variant", help="evaluate on this variant of the checkpoint's task instead of its "
                                     "own (e.g. an unseen connector)")
    e.add_argument("--out", help="also write the result as JSON to this file")
    e.set_defaults(func=_run_eval)


def _threads(n: int) -> None:
    if n == 1 and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = SINGLE_THREAD_XLA


def _run_train(args) -> int:
    _threads(args.threads)
    from tqdm import tqdm

    from trainers.specialist.config import SACConfig, TrainConfig
    from trainers.specialist.train import train_specialist

    sac = SACConfig(hidden=tuple(args.hidden), batch_size=args.batch_size, utd_ratio=args.utd,
                    bc_weight=args.bc_weight, demo_fraction=args.demo_fraction,
                    discount=args.discount, q_weight=args.q_weight, normalize_q=args.normalize_q,
                    init_temperature=args.init_temperature,
                    normalize_obs=args.obs_features == "normalized",
                    relative_obs=args.obs_features == "normalized", offset_obs=args.obs_features == "offsets",
                    mc_lower_bound=not args.no_mc_bound)
    start_stage = -1 if args.start_stage == "bottleneck" else int(args.start_stage)
    config = TrainConfig(task=args.task, variant=args.variant, out=args.out, demos=args.demos,
                         demo_dataset=args.demo_dataset, demonstrator=args.demonstrator, minutes=args.minutes,
                         max_env_steps=args.max_env_steps, eval_every=args.eval_every,
                         eval_episodes=args.eval_episodes, success_threshold=args.success_threshold,
                         patience=args.patience, confirm_episodes=args.confirm_episodes,
                         start_steps=args.start_steps, step_cost=args.step_cost,
                         start_stage=start_stage, seed=args.seed, update_every=args.update_every,
                         clock=args.clock, bc_skip_idle=not args.bc_on_idle,
                         action_repeat=args.action_repeat, imitate_successes=args.imitate_successes, sac=sac)
    with tqdm(total=config.max_env_steps, unit="step", desc="specialist", disable=None, file=sys.stderr) as bar:
        def progress(row: dict) -> None:
            bar.update(row["env_steps"] - bar.n)
            bar.set_postfix(success=row["success_rate"], steps=row["median_steps_to_success"])

        result = train_specialist(config, progress=progress)
    print(json.dumps({"checkpoint": str(result.checkpoint), "stopped": result.stopped,
                      "env_steps": result.env_steps, "seconds": round(result.seconds, 1),
                      "best": result.best}, indent=2))
    return 0


def _run_eval(args) -> int:
    from trainers.specialist.checkpoint import load_policy, read_meta
    from trainers.specialist.envs import robot_io_env_factory
    from trainers.specialist.evaluate import evaluate_policy

    meta = read_meta(args.checkpoint)
    variant = args.variant or meta["variant"]
    env = robot_io_env_factory(meta["task"], variant)(args.seed)
    try:
        result = evaluate_policy(env, load_policy(args.checkpoint), args.episodes, args.seed,
                                 int(meta.get("start_stage", 0)))
    finally:
        env.close()
    text = json.dumps({"task": meta["task"], "variant": variant, "trained_on": meta["variant"],
                       "start_stage": int(meta.get("start_stage", 0)), **result.to_dict()}, indent=2)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(text)
    print(text)
    return 0
