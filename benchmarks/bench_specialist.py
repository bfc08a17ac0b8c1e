"""Benchmark of the RL specialist (issue 6). Two parts, both print ratios measured in the same run.

`updates` (default): gradient updates/s of our JAX SAC (jitted, `rounds` updates per lax.scan)
versus a plain PyTorch SAC of the same size (same LayerNorm MLPs, critic ensemble, batch, BC term),
both on one CPU thread, plus peak memory.

`acceptance`: for each seen insertion variant, trains a specialist with `train_specialist`
(<= 20 human-proxy demos, a time limit) and evaluates it and the human proxy on the same starting
states: strict success rate and median steps to success (cycle time), and their ratio.

  python benchmarks/bench_specialist.py updates --seconds 20
  python benchmarks/bench_specialist.py acceptance --minutes 15 --out runs/bench_specialist
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

OBS_DIM, ACTION_DIM = 39, 4


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def filled_buffer(n: int = 20_000):
    from trainers.specialist.replay import ReplayBuffer

    rng = np.random.default_rng(0)
    buffer = ReplayBuffer(OBS_DIM, ACTION_DIM, n)
    buffer.obs[:] = rng.normal(size=buffer.obs.shape)
    buffer.next_obs[:] = rng.normal(size=buffer.obs.shape)
    buffer.action[:] = rng.uniform(-1, 1, buffer.action.shape)
    buffer.reward[:] = rng.random(n) < 0.05
    buffer.size = n
    return buffer


def jax_updates_per_s(config, seconds: float, rounds: int) -> float:
    import jax

    from trainers.specialist.replay import sample_rounds
    from trainers.specialist.sac import SAC

    sac = SAC(config, OBS_DIM, ACTION_DIM)
    state = sac.init(0)
    buffer, rng = filled_buffer(), np.random.default_rng(1)

    def batches():
        return sample_rounds(buffer, buffer, rng, rounds=rounds, utd=config.utd_ratio,
                             batch_size=config.batch_size, demo_fraction=config.demo_fraction)

    state, _ = sac.update(state, batches())  # compile
    jax.block_until_ready(state)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        state, metrics = sac.update(state, batches())
        done += rounds * config.utd_ratio
    jax.block_until_ready(state)
    return done / (time.perf_counter() - start)


def torch_updates_per_s(config, seconds: float) -> float:
    """The reference: a plain PyTorch SAC of the same size, one update per Python call."""
    import torch
    from torch import nn

    from trainers.specialist.replay import sample_rounds

    torch.set_num_threads(1)

    def trunk(inp):
        layers, size = [], inp
        for h in config.hidden:
            layers += [nn.Linear(size, h), nn.LayerNorm(h, eps=1e-6), nn.ReLU()]
            size = h
        return layers, size

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            layers, size = trunk(OBS_DIM)
            self.trunk = nn.Sequential(*layers)
            self.mean, self.log_std = nn.Linear(size, ACTION_DIM), nn.Linear(size, ACTION_DIM)

        def forward(self, obs):
            x = self.trunk(obs)
            raw = torch.tanh(self.log_std(x))
            log_std = config.log_std_min + 0.5 * (config.log_std_max - config.log_std_min) * (raw + 1)
            return self.mean(x), log_std

    def critic():
        layers, size = trunk(OBS_DIM + ACTION_DIM)
        return nn.Sequential(*layers, nn.Linear(size, 1))

    actor = Actor()
    critics = nn.ModuleList([critic() for _ in range(config.num_critics)])
    targets = nn.ModuleList([critic() for _ in range(config.num_critics)])
    targets.load_state_dict(critics.state_dict())
    log_alpha = torch.zeros((), requires_grad=True)
    opt_a = torch.optim.Adam(actor.parameters(), config.actor_lr)
    opt_c = torch.optim.Adam(critics.parameters(), config.critic_lr)
    opt_t = torch.optim.Adam([log_alpha], config.temp_lr)
    target_entropy = -ACTION_DIM / 2

    def sample(obs):
        mean, log_std = actor(obs)
        std = log_std.exp()
        pre = mean + std * torch.randn_like(mean)
        logp = (-0.5 * ((pre - mean) / std) ** 2 - log_std - 0.9189385).sum(-1)
        logp -= (2 * (np.log(2) - pre - nn.functional.softplus(-2 * pre))).sum(-1)
        return torch.tanh(pre), logp, mean

    def q_all(nets, obs, act):
        x = torch.cat([obs, act], -1)
        return torch.stack([n(x)[..., 0] for n in nets])

    buffer, rng = filled_buffer(), np.random.default_rng(1)
    done, start, compiled = 0, None, False
    while start is None or time.perf_counter() - start < seconds:
        raw = sample_rounds(buffer, buffer, rng, rounds=1, utd=1, batch_size=config.batch_size,
                            demo_fraction=config.demo_fraction)
        b = {k: torch.from_numpy(v[0, 0]) for k, v in raw.items()}
        with torch.no_grad():
            next_a, _, _ = sample(b["next_obs"])
            target = b["reward"] + config.discount * (1 - b["done"]) * q_all(targets, b["next_obs"], next_a).min(0).values
        critic_loss = ((q_all(critics, b["obs"], b["action"]) - target) ** 2).mean()
        opt_c.zero_grad()
        critic_loss.backward()
        opt_c.step()
        with torch.no_grad():
            for p, tp in zip(critics.parameters(), targets.parameters()):
                tp.mul_(1 - config.tau).add_(config.tau * p)
        act, logp, mean = sample(b["obs"])
        bc = (((torch.tanh(mean) - b["action"]) ** 2).sum(-1) * b["is_demo"]).sum() / b["is_demo"].sum()
        actor_loss = (log_alpha.exp().detach() * logp - q_all(critics, b["obs"], act).mean(0)).mean()
        actor_loss = actor_loss + config.bc_weight * bc
        opt_a.zero_grad()
        actor_loss.backward()
        opt_a.step()
        temp_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
        opt_t.zero_grad()
        temp_loss.backward()
        opt_t.step()
        if not compiled:  # first (warm-up) update not timed, as for JAX
            compiled, start = True, time.perf_counter()
            continue
        done += 1
    return done / (time.perf_counter() - start)


def bench_updates(args) -> dict:
    from trainers.specialist.config import SACConfig

    # normalize_q off: the torch reference's actor loss has the plain Q term.
    config = SACConfig(hidden=tuple(args.hidden), batch_size=args.batch, normalize_q=False)
    torch_rate = torch_updates_per_s(config, args.seconds)
    results = {"torch_updates_per_s": round(torch_rate, 1)}
    for rounds in args.rounds:
        rate = jax_updates_per_s(config, args.seconds, rounds)
        results[f"jax_scan{rounds}_updates_per_s"] = round(rate, 1)
        results[f"ratio_jax_scan{rounds}_vs_torch"] = round(rate / torch_rate, 2)
    results["peak_rss_mib"] = round(peak_rss_mib(), 1)
    results["config"] = {"hidden": list(config.hidden), "batch": config.batch_size,
                         "critics": config.num_critics, "obs_dim": OBS_DIM, "threads": 1}
    return results


def bench_acceptance(args) -> dict:
    import robot_io

    from trainers.specialist.config import SACConfig, TrainConfig
    from trainers.specialist.envs import robot_io_demonstrator, robot_io_env_factory
    from trainers.specialist.evaluate import evaluate_on_env
    from trainers.specialist.train import train_specialist
    from trainers.specialist.checkpoint import load_policy

    results = {}
    variants = args.variants or robot_io.variants("insertion", "seen")
    for variant in variants:
        out = Path(args.out) / f"insertion-{variant}"
        sac = {k: v for k, v in {"bc_weight": args.bc_weight, "discount": args.discount,
                                 "utd_ratio": args.utd}.items() if v is not None}
        extra = {k: v for k, v in {"step_cost": args.step_cost, "action_repeat": args.action_repeat,
                                   "update_every": args.update_every}.items() if v is not None}
        config = TrainConfig(task="insertion", variant=variant, out=str(out), demos=args.demos,
                             minutes=args.minutes, eval_every=args.eval_every, seed=args.seed,
                             clock=args.clock, sac=SACConfig(**sac), **extra)
        run = train_specialist(config, progress=lambda row: print(json.dumps(row), flush=True))
        make_env = robot_io_env_factory("insertion", variant)
        env = make_env(args.seed + 7)
        specialist = evaluate_on_env(env, load_policy(out), args.eval_episodes, seed=2_000_000)
        human = evaluate_on_env(env, robot_io_demonstrator("human", env, args.seed), args.eval_episodes,
                                seed=2_000_000)
        env.close()
        s, h = specialist.median_steps_to_success, human.median_steps_to_success
        results[variant] = {
            "train_seconds": round(run.seconds, 1), "train_cpu_seconds": run.curve[-1]["cpu_seconds"] if run.curve else None,
            "env_steps": run.env_steps, "stopped": run.stopped,
            "best_during_training": run.best.get("success_rate"),
            "specialist": specialist.to_dict(), "human_proxy": human.to_dict(),
            "cycle_time_ratio_specialist_vs_human": round(s / h, 2) if s and h else None,
        }
        print(json.dumps({variant: results[variant]}), flush=True)
    results["peak_rss_mib"] = round(peak_rss_mib(), 1)
    (Path(args.out) / "acceptance.json").write_text(json.dumps(results, indent=2))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="part")
    up = sub.add_parser("updates")
    up.add_argument("--seconds", type=float, default=15.0)
    up.add_argument("--rounds", type=int, nargs="+", default=[1, 10])
    up.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    up.add_argument("--batch", type=int, default=256)
    acc = sub.add_parser("acceptance")
    acc.add_argument("--variants", nargs="*")
    acc.add_argument("--minutes", type=float, default=15.0)
    acc.add_argument("--demos", type=int, default=20)
    acc.add_argument("--eval-every", type=int, default=5000)
    acc.add_argument("--eval-episodes", type=int, default=50)
    acc.add_argument("--update-every", type=int, help="default: TrainConfig's")
    acc.add_argument("--step-cost", type=float, help="default: TrainConfig's")
    acc.add_argument("--action-repeat", type=int, help="default: TrainConfig's")
    acc.add_argument("--bc-weight", type=float, help="default: SACConfig's")
    acc.add_argument("--seed", type=int, default=0)
    acc.add_argument("--discount", type=float, help="default: SACConfig's")
    acc.add_argument("--utd", type=int, help="default: SACConfig's")
    acc.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    acc.add_argument("--out", default="runs/bench_specialist")
    args = parser.parse_args()
    if args.part is None:
        args = parser.parse_args(["updates"])
    results = bench_updates(args) if args.part == "updates" else bench_acceptance(args)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
