"""The specialist training loop: demos in, online SAC with evaluation, best checkpoint out.

`train_specialist(config)` fills a demonstration buffer (from a dataset or a live demonstrator),
then alternates environment steps with jitted SAC updates, evaluates the deterministic policy every
`eval_every` steps, keeps the best checkpoint (highest success, then fewest steps to success), and
stops at the time limit or once success has held at the threshold for `patience` evaluations.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from rldg_data.errors import RldgError
from rldg_data.io.outputs import check_output
from trainers.specialist import checkpoint, demos as demo_io, envs
from trainers.specialist.config import TrainConfig
from trainers.specialist.evaluate import Evaluation, run_episodes, summarize
from trainers.specialist.replay import ReplayBuffer, episode_transitions, sample_rounds

log = logging.getLogger(__name__)

EVAL_SEED = 1_000_000  # evaluation starts never overlap the demo or training seeds
IDLE_ACTION = 1e-3  # a demo step whose hand command is below this on every axis is a pause


@dataclasses.dataclass
class TrainResult:
    """What a run produced: the best checkpoint folder, its evaluation, and the learning curve."""

    checkpoint: Path
    best: dict
    curve: list[dict]
    env_steps: int
    seconds: float
    stopped: str  # "threshold", "time", "steps"


def train_specialist(
    config: TrainConfig,
    *,
    make_env: Optional[envs.EnvFactory] = None,
    make_demonstrator: Optional[envs.DemonstratorFactory] = None,
    progress: Optional[Callable[[dict], None]] = None,
    force: bool = False,
) -> TrainResult:
    """Trains one specialist as `config` says; writes its best checkpoint to `config.out`.

    `config.out` must be new or empty, or (with `force`) an earlier checkpoint of this command
    holding nothing else: checked before training starts (io.outputs)."""
    check_output(config.out, checkpoint.COMMAND, force=force)
    from trainers.specialist.sac import SAC, observation_transform, offset_transform

    started, cpu_started = time.monotonic(), time.process_time()
    make_env = make_env or envs.robot_io_env_factory(config.task, config.variant)
    make_demonstrator = make_demonstrator or envs.robot_io_demonstrator
    env, eval_env = make_env(config.seed), make_env(config.seed + 1)
    if config.start_stage < 0:  # "bottleneck": the stage the task names as its hardest
        config = dataclasses.replace(config, start_stage=int(env.bottleneck_stage))
    obs = _reset(env, config.seed, config.start_stage)
    obs_dim = int(np.asarray(obs["privileged_state"]).shape[0])
    action_dim = int(getattr(env, "action_dim", 4))

    demo_buffer = _demo_buffer(config, env, make_demonstrator, obs_dim, action_dim)
    obs = _reset(env, config.seed, config.start_stage)  # live demos ran on `env`: start afresh
    online = ReplayBuffer(obs_dim, action_dim, config.max_env_steps)
    if config.sac.offset_obs:
        transform = offset_transform(obs_dim)
    else:
        fit_obs = (demo_buffer.obs[:len(demo_buffer)] if demo_buffer is not None
                   else np.asarray([obs["privileged_state"]], np.float32))
        transform = observation_transform(fit_obs, relative=config.sac.relative_obs,
                                          normalize=config.sac.normalize_obs and demo_buffer is not None)
    sac = SAC(config.sac, obs_dim, action_dim, transform)
    state = sac.init(config.seed)
    actor = checkpoint.NumpyActor(sac.export_actor(state.actor_params), config.sac.log_std_min,
                                  config.sac.log_std_max)
    rng = np.random.default_rng(config.seed)
    curve: list[dict] = []
    best: Optional[dict] = None
    held, stopped, metrics = 0, "steps", {}
    demo_meta = {"demo_episodes": 0 if demo_buffer is None else demo_buffer.episodes,
                 "demo_transitions": 0 if demo_buffer is None else len(demo_buffer)}

    episode_seed, step, decisions, repeat = config.seed, 0, 0, config.action_repeat
    next_eval = config.eval_every
    while step < config.max_env_steps:
        if step < config.start_steps:
            action = rng.uniform(-1, 1, action_dim).astype(np.float32)
        else:
            action = actor.explore(obs["privileged_state"], rng)
        next_obs, success, taken, ended = _hold(env, action, repeat)
        step += taken
        decisions += 1
        reward = float(success) - config.step_cost
        online.add(obs["privileged_state"], action, reward, next_obs["privileged_state"], success, bc=False)
        obs = next_obs
        if ended:
            online.finish_episode(config.sac.discount, imitate=success and config.imitate_successes)
            episode_seed += 1
            obs = _reset(env, episode_seed, config.start_stage)

        if step >= config.start_steps and decisions % config.update_every == 0:
            batches = sample_rounds(online, demo_buffer, rng, rounds=config.update_every,
                                    utd=config.sac.utd_ratio, batch_size=config.sac.batch_size,
                                    demo_fraction=config.sac.demo_fraction)
            state, metrics = sac.update(state, batches)
            actor = checkpoint.NumpyActor(sac.export_actor(state.actor_params), config.sac.log_std_min,
                                          config.sac.log_std_max)

        elapsed = (time.process_time() - cpu_started if config.clock == "cpu"
                   else time.monotonic() - started)
        out_of_time = elapsed >= config.minutes * 60
        if step >= next_eval or out_of_time or step >= config.max_env_steps:
            next_eval = (step // config.eval_every + 1) * config.eval_every
            policy = checkpoint.ActionHold(_deterministic(actor), repeat)
            seed = EVAL_SEED + config.seed
            episodes = run_episodes(eval_env, policy, config.eval_episodes, seed, config.start_stage, policy.reset)
            if summarize(episodes).success_rate >= config.success_threshold and config.confirm_episodes:
                episodes += run_episodes(eval_env, policy, config.confirm_episodes, seed + config.eval_episodes,
                                         config.start_stage, policy.reset)
            result = summarize(episodes)
            row = {"env_steps": step, "decisions": decisions, "seconds": round(time.monotonic() - started, 1),
                   "cpu_seconds": round(time.process_time() - cpu_started, 1),
                   **result.to_dict(), **{k: float(v) for k, v in metrics.items()}}
            curve.append(row)
            if progress:
                progress(row)
            log.info("step %d: success %.2f median steps %s", step, result.success_rate,
                     result.median_steps_to_success)
            if best is None or _better(result, best):
                best = {**row}
                _save(config, actor.params, best, curve, demo_meta)
            held = held + 1 if result.success_rate >= config.success_threshold else 0
            if held >= config.patience:
                stopped = "threshold"
                break
            if out_of_time:
                stopped = "time"
                break
    env_steps = step
    for e in (env, eval_env):
        if hasattr(e, "close"):
            e.close()
    out = Path(config.out)
    checkpoint.write_curve(out, curve)  # the whole curve, also past the best checkpoint
    return TrainResult(out, best or {}, curve, env_steps, time.monotonic() - started, stopped)


def _hold(env: Any, action: np.ndarray, repeat: int) -> tuple[dict, bool, int, bool]:
    """Applies `action` for up to `repeat` control steps, stopping when the episode ends.

    Returns (last observation, success, control steps taken, episode ended). Success terminates
    a `SimEnv` episode, so the stored `done` is the success flag.
    """
    for k in range(1, repeat + 1):
        obs, _, terminated, truncated, info = env.step(action)
        success = bool(info.get("success", False))
        if terminated or truncated or success:
            return obs, success, k, True
    return obs, False, repeat, False


def _reset(env: Any, seed: int, start_stage: int):
    return env.reset(seed=seed, start_stage=start_stage) if start_stage else env.reset(seed=seed)


def _deterministic(actor: checkpoint.NumpyActor) -> Callable:
    return lambda observation: actor.deterministic(observation["privileged_state"])


def _better(result: Evaluation, best: dict) -> bool:
    if result.success_rate != best["success_rate"]:
        return result.success_rate > best["success_rate"]
    mine, theirs = result.median_steps_to_success, best["median_steps_to_success"]
    return mine is not None and (theirs is None or mine < theirs)


class _DemoBuffer(ReplayBuffer):
    episodes: int = 0


def _demo_buffer(config: TrainConfig, env, make_demonstrator, obs_dim: int, action_dim: int):
    if config.demo_dataset:
        episodes = demo_io.load_demos(config.demo_dataset, config.task, config.variant,
                                      limit=config.demos or None)
    elif config.demos:
        demonstrator = make_demonstrator(config.demonstrator, env, config.seed)
        episodes = demo_io.collect_demos(env, demonstrator, config.demos, seed=config.seed + 500_000,
                                         start_stage=config.start_stage)
        if not episodes:
            raise RldgError(f"the {config.demonstrator} demonstrator succeeded in none of "
                            f"{3 * config.demos} episodes on {config.task}/{config.variant}")
    else:
        return None
    for e in episodes:
        if e.obs.shape[1] != obs_dim or e.actions.shape[1] != action_dim:
            raise RldgError(f"demonstration {e.episode_id!r}: privileged_state/action sizes "
                            f"{e.obs.shape[1]}/{e.actions.shape[1]} differ from the environment's "
                            f"{obs_dim}/{action_dim}")
    windows = []
    for e in episodes:
        if e.steps < 1:
            raise RldgError(f"demonstration {e.episode_id!r} has no steps (one observation only)")
        windows.append(episode_transitions(e.obs, e.actions, e.success, config.step_cost, config.action_repeat,
                                           config.sac.discount, _moving(e.actions[:-1], config.bc_skip_idle)))
    buffer = _DemoBuffer(obs_dim, action_dim, sum(len(w["obs"]) for w in windows))
    for w in windows:
        buffer.add_arrays(w)
    buffer.episodes = len(episodes)
    return buffer


def _moving(actions: np.ndarray, skip_idle: bool) -> np.ndarray:
    """Per step: may the BC term imitate it? Not a demonstrator's pause (no hand motion; the
    gripper command alone does not count) when `skip_idle`."""
    if not skip_idle:
        return np.ones(len(actions), bool)
    return np.abs(np.asarray(actions)[:, :3]).max(-1) > IDLE_ACTION


def _save(config: TrainConfig, params, best: dict, curve: list[dict], demo_meta: dict) -> None:
    meta = {"task": config.task, "variant": config.variant, "start_stage": config.start_stage,
            "obs_key": "privileged_state", "obs_dim": int(params["trunk/dense_0/kernel"].shape[0]),
            "action_dim": int(params["mean/kernel"].shape[1]), "config": config.to_dict(),
            "evaluation": best, **demo_meta}
    checkpoint.save_checkpoint(config.out, params, meta, curve)
