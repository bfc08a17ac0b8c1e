"""`rldg collect --robot URL|CONFIG.json`: recording through HIL-SERL's robot server API.

The same recorder as simulator runs (`recorder.record_episode`: envlogger, one atomic folder per
episode, outcome.json, per-step sources and stages), so `tfds build builders/rldg_rollouts` builds
robot logs unchanged. The environment is `robot_io.franka`'s (10 Hz, 7-D actions, 20-D state; our
simulator server adds privileged state, so a specialist checkpoint drives the API as it drives the
simulator: its 4-D xyz + gripper action becomes the 7-D action with no rotation).

Interventions (`--intervene-with human`) come from a SpaceMouse (HIL-SERL's rule: any motion or
button replaces the policy's action; the step is labelled `intervention` and the policy's proposal
is logged beside it as step custom data `policy_action`); `--handoff human-first|policy-first`
gives the SpaceMouse the stages before (or after) the bottleneck. Each episode's metadata carries
its loop timing (`loop_overruns`, `loop_period_p50_ms`, ...).

Faults: a server that does not answer at start is an error before anything is written; a server
lost mid-episode discards that episode (its `.partial` folder is removed), keeps every completed
one, and the run fails, so that rerunning the command resumes.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from collectors.actors import HandOffActor, SingleActor, source_of
from collectors.recorder import PARTIAL_SUFFIX, EpisodeHeader, record_episode
from rldg_data.contract import spec
from rldg_data.errors import RldgError, RobotError

log = logging.getLogger(__name__)


class Pose7Policy:
    """A policy with 4-D actions (xyz delta, gripper) or 7-D ones, as 7-D (no rotation).

    `action_repeat`: how many simulator ticks one decision of the policy was trained to cover
    (a specialist's action repeat); `fold_action_repeat` scales a simulated robot's step to match."""

    def __init__(self, policy, action_repeat: int = 1) -> None:
        self.policy = policy
        self.policy_id = policy.policy_id
        self.action_repeat = int(action_repeat)
        source = getattr(policy, "source", None)
        if source:
            self.source = source

    def reset(self, seed: Optional[int] = None) -> None:
        self.policy.reset(seed)

    def act(self, observation) -> np.ndarray:
        a = np.asarray(self.policy.act(observation), np.float32).reshape(-1)
        if a.shape == (4,):
            return np.concatenate([a[:3], np.zeros(3, np.float32), a[3:]])
        if a.shape == (7,):
            return a
        raise RldgError(f"policy {self.policy_id!r} returned a {a.shape[0]}-D action; a robot takes 7-D "
                        f"(xyz, euler, gripper) or 4-D (xyz, gripper)")


def _gripper_open(observation) -> bool:
    from robot_io.franka.config import GRIPPER_INDEX

    return bool(np.asarray(observation["state"])[GRIPPER_INDEX] > 0.85)


class SpaceMousePolicy:
    """A person at the SpaceMouse as a policy (source `human`): zero motion when untouched."""

    source = spec.SOURCE_HUMAN
    policy_id = "spacemouse"

    def __init__(self, reader) -> None:
        self.reader = reader

    def reset(self, seed: Optional[int] = None) -> None:
        pass

    def act(self, observation) -> np.ndarray:
        from robot_io.franka.spacemouse import intervention_action

        action = intervention_action(self.reader.read(), _gripper_open(observation))
        if action is None:
            return np.append(np.zeros(6, np.float32), 1.0 if _gripper_open(observation) else -1.0).astype(np.float32)
        return action


class SpaceMouseInterventionActor:
    """The policy acts unless the SpaceMouse is touched (HIL-SERL's SpacemouseIntervention): then
    the device's action replaces it, labelled `intervention`. `last_proposal` is the policy's
    action of the latest step, whoever acted; `interventions` counts intervened steps."""

    def __init__(self, policy, reader) -> None:
        self.policy, self.reader = policy, reader
        self.source = source_of(policy)
        self.policy_id = f"{policy.policy_id}+spacemouse"
        self.last_proposal = np.zeros(7, np.float32)
        self.interventions = 0

    def reset(self, seed: Optional[int] = None) -> None:
        self.policy.reset(seed)
        self.last_proposal = np.zeros(7, np.float32)
        self.interventions = 0

    def act(self, observation, stage: int) -> tuple[np.ndarray, str]:
        from robot_io.franka.spacemouse import intervention_action

        proposal = np.clip(np.asarray(self.policy.act(observation), np.float32), -1.0, 1.0)
        self.last_proposal = proposal
        device = intervention_action(self.reader.read(), _gripper_open(observation))
        if device is None:
            return proposal, self.source
        self.interventions += 1
        return device, spec.SOURCE_INTERVENTION


def _load_factory(path: str) -> Callable:
    from collectors.sources import load_factory

    return load_factory(path)


def robot_policy(kind: str, env, seed: int):
    """The policy of `--policy` on a robot: a checkpoint folder or a `module:function` factory."""
    if kind in ("expert", "human"):
        raise RldgError(f"--policy {kind} needs the simulator's internals and cannot drive a robot; give a "
                        f"checkpoint folder or a module:function factory (a person acts through "
                        f"--intervene-with human or --handoff, with a SpaceMouse)")
    if Path(kind).is_dir():
        from rldg_data.policy import load_policy

        policy = load_policy(kind, hold=False)  # one decision per robot step (see open_robot)
        repeat = int(getattr(policy, "info", {}).get("config", {}).get("action_repeat", 1) or 1)
        return Pose7Policy(policy, repeat)
    if ":" in kind:
        return Pose7Policy(_load_factory(kind)(env, seed=seed))
    raise RldgError(f"--policy {kind!r} is neither a checkpoint folder nor a 'module:function' factory")


def spacemouse(config, env):
    """The SpaceMouse reader: `demonstrator_factory("spacemouse", env, seed=)` if given (tests give
    a scripted device), else the real device."""
    if config.demonstrator_factory:
        return _load_factory(config.demonstrator_factory)("spacemouse", env, seed=config.seed)
    from robot_io.franka.spacemouse import PySpaceMouseReader

    return PySpaceMouseReader()


def _user_keys(robot: str) -> set:
    path = Path(robot)
    if not path.is_file():
        return set()
    import json

    try:
        return set(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return set()


def make_robot_actor(config, env, bottleneck_stage: int):
    if config.intervene_with == "expert":
        raise RldgError("--intervene-with expert needs the simulator's internals; on a robot a person "
                        "intervenes with a SpaceMouse: --intervene-with human")
    if config.intervene_with and config.handoff:
        raise RldgError("a hand-off and interventions in one run are not supported; pick one")
    policy = robot_policy(config.policy, env, config.seed)
    fold_action_repeat(env, getattr(policy, "action_repeat", 1), steps="max_episode_steps" not in _user_keys(config.robot))
    if config.intervene_with == "human":
        return SpaceMouseInterventionActor(policy, spacemouse(config, env))
    if config.handoff:
        person = SpaceMousePolicy(spacemouse(config, env))
        if config.handoff == "human-first":
            return HandOffActor(person, policy, bottleneck_stage)
        return HandOffActor(policy, person, bottleneck_stage + 1)
    return SingleActor(policy)


def open_robot(config):
    """(FrankaEnv, RobotDmEnv) for a CollectConfig with `robot` set; checks the server first."""
    from robot_io.franka import resolve_config
    from robot_io.franka.dm import RobotDmEnv
    from robot_io.franka.env import FrankaEnv

    cameras = [{"name": "main"}, {"name": "wrist"}] if config.wrist else None
    overrides: dict[str, Any] = {"image_size": config.image_size}
    robot_config, client = resolve_config(config.robot, overrides)
    if cameras and robot_config.simulated and len(robot_config.cameras) < 2:
        raise RldgError("--wrist: the simulator server has no wrist camera; start it with --wrist")
    if config.wrist and len(robot_config.cameras) < 2:
        raise RldgError("--wrist needs a second camera in the robot config")
    for key in ("task", "variant"):
        served = getattr(robot_config, key)
        if served and served != getattr(config, key):
            raise RldgError(f"the robot server at {robot_config.url} runs {key} {served!r}, not "
                            f"{getattr(config, key)!r}; pass --{key} {served}")
    if config.start_stage and not robot_config.simulated:
        raise RldgError("--start-stage needs the simulator server (a real scene is reset by a person)")
    env = FrankaEnv(robot_config, client)
    return env, RobotDmEnv(env, config.start_stage)


def fold_action_repeat(env, repeat: int, steps: bool = True) -> None:
    """On our simulator server, a policy trained to hold each decision for `repeat` simulator ticks
    decides once per robot step instead: the position scale grows `repeat` times and the step limit
    shrinks as much (unless `steps` is False: the user set it), so one step covers what one
    decision covered in the simulator. On a real robot the config's values are used as given."""
    cfg = env.config
    if repeat <= 1 or not cfg.simulated:
        return
    env.config = dataclasses.replace(
        cfg, action_scale=(cfg.action_scale[0] * repeat, *cfg.action_scale[1:]),
        max_episode_steps=max(1, -(-cfg.max_episode_steps // repeat)) if steps else cfg.max_episode_steps)
    log.info("policy decides every %d simulator ticks: %.3f m per unit action, %d steps at most",
             repeat, env.config.action_scale[0], env.config.max_episode_steps)


def collect_robot(config, progress: Optional[Callable[[dict], None]] = None):
    """Records `config.episodes` episodes through the robot server `config.robot` into
    `config.out/worker-000/` (one worker: one robot); returns a `CollectSummary`."""
    from collectors.collect import (COMMAND, MANIFEST, CollectSummary, check_log_folder, committed_episodes,
                                    episode_name, worker_folder, write_manifest)
    from rldg_data.io.locks import folder_lock
    from rldg_data.io.outputs import claim_work_folder

    if config.workers != 1:
        raise RldgError("--robot drives one robot: use --workers 1")
    claim_work_folder(config.out, COMMAND, MANIFEST, create=False)  # a folder of other files: refused
    config = check_log_folder(config)
    env, dm = open_robot(config)  # raises before anything is written if the server is unreachable
    try:
        lock = folder_lock(claim_work_folder(config.out, COMMAND, MANIFEST), COMMAND)
        lock.__enter__()
    except BaseException:
        env.close()
        raise
    try:
        return _collect_robot_locked(config, env, dm, progress)
    finally:
        lock.__exit__(None, None, None)


def _collect_robot_locked(config, env, dm, progress):
    from collectors.collect import (CollectSummary, committed_episodes, episode_name, log_steps, worker_folder,
                                    write_manifest)

    summary = CollectSummary(Path(config.out))
    try:
        cfg = env.config
        actor = make_robot_actor(config, env, cfg.bottleneck_stage)
        write_manifest(config, cfg.hz)  # the robot loop's rate: one recorded step per period
        folder = worker_folder(config.out, 0)
        folder.mkdir(parents=True, exist_ok=True)
        done = committed_episodes(config.out)
        for i in range(config.episodes):
            if i in done:
                summary.skipped += 1
                if progress:
                    progress({"worker": 0, "index": i, "skipped": True})
                continue
            seed = config.seed + i
            header = EpisodeHeader(
                episode_id=f"{config.task}/{config.variant}/{actor.policy_id}/seed{seed}",
                task=config.task, variant=config.variant, split=cfg.split or "seen",
                policy_id=actor.policy_id, seed=seed, language_instruction=cfg.language_instruction)
            step_extras = ((lambda: {"policy_action": np.asarray(actor.last_proposal, np.float32)})
                           if hasattr(actor, "last_proposal") else None)

            def loop_meta():
                return {f"loop_{k}": (np.int64(v) if isinstance(v, int) else np.float64(v))
                        for k, v in env.stats.summary().items()}
            try:
                outcome = record_episode(dm, actor, folder, episode_name(i), header, lambda e: dm.last_info,
                                         seed_fn=dm.seed, step_extras_fn=step_extras, outcome_extras_fn=loop_meta,
                                         verify=log_steps)
            except RobotError as exc:
                shutil.rmtree(folder / f".{episode_name(i)}{PARTIAL_SUFFIX}", ignore_errors=True)
                msg = (f"episode {i} (seed {seed}) discarded: {exc}; {summary.recorded} episode(s) recorded "
                       f"in this run are kept in {config.out}; run the same command again to resume")
                raise RldgError(f"robot collection into {config.out} stopped: {msg}") from None
            summary.add_episode(outcome.length, outcome.success, outcome.sources)  # as validate counts
            stats = env.stats.summary()
            if stats["overruns"]:
                log.warning("episode %d: %d of %d steps overran the %.0f ms period", i, stats["overruns"],
                            stats["steps"], 1000.0 / cfg.hz)
            if progress:
                progress({"worker": 0, "index": i, "skipped": False, "length": outcome.length,
                          "success": outcome.success, "sources": list(outcome.sources), "loop": stats})
    finally:
        try:
            env.close()
        except Exception:  # the server may be gone; closing must not hide the real error
            pass
    return summary
