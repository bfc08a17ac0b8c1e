"""Where environments and actors come from: robot_io tasks, checkpoints, demonstrators, or a factory.

`open_env` builds the dm_env environment a worker records from (robot_io's `DmEnv` around a
`SimEnv` by default, with a tap that keeps the last step's `info`, so stage and strict success reach
the log whatever the adapter keeps). `make_actor` turns the `--policy` string and the hand-off /
intervention options of a `CollectConfig` into a labelled `Actor`. Factories named
`"module:function"` let any other dm_env task or policy be recorded the same way.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from collectors.actors import HandOffActor, InterveningActor, InterventionRule, SingleActor
from rldg_data.errors import RldgError, UnavailableError

DEMONSTRATORS = ("expert", "human")


def load_factory(path: str) -> Callable:
    """Imports `"package.module:function"`."""
    module, _, name = path.partition(":")
    if not module or not name:
        raise RldgError(f"factory {path!r} must look like 'package.module:function'")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise RldgError(f"cannot import factory {path!r}: {exc}") from exc


class _InfoTap:
    """Wraps a robot_io `SimEnv`; remembers the `info` of the last `step()` as `last_info`."""

    def __init__(self, sim, start_stage: int = 0) -> None:
        self._sim = sim
        self.start_stage = int(start_stage)  # where every episode starts (a hand-off state if > 0)
        self.last_info: dict = {"success": False, "stage": self.start_stage}
        self._next_seed: Optional[int] = None

    def seed(self, seed: int) -> None:
        """The next reset starts from `seed` (dm_env's reset() takes none)."""
        self._next_seed = int(seed)

    def __getattr__(self, name):
        return getattr(self._sim, name)

    def reset(self, *args, **kwargs):
        if self._next_seed is not None and not args and kwargs.get("seed") is None:
            kwargs["seed"], self._next_seed = self._next_seed, None
        if not kwargs.get("start_stage"):
            kwargs["start_stage"] = self.start_stage
        obs = self._sim.reset(*args, **kwargs)
        self.last_info = {"success": False, "stage": int(kwargs.get("start_stage", 0))}
        return obs

    def step(self, action):
        result = self._sim.step(action)
        self.last_info = dict(result[-1])
        return result


@dataclasses.dataclass
class EnvHandle:
    """A worker's environment: the dm_env to record, the object demonstrators act on (`sim`),
    how to read the last step's info, and the task's static facts."""

    env: Any
    sim: Any
    info_fn: Callable[[Any], Mapping[str, Any]]
    split: str
    language_instruction: str
    bottleneck_stage: int
    seed_fn: Optional[Callable[[int], None]] = None

    def close(self) -> None:
        for obj in (self.env, self.sim):
            close = getattr(obj, "close", None)
            if callable(close):
                close()
                return


def open_env(task: str, variant: str, *, image_size: int, wrist: bool, seed: int,
             env_factory: str = "", start_stage: int = 0) -> EnvHandle:
    """The environment of one worker: robot_io's task, or `env_factory(task, variant, image_size=,
    wrist=, seed=)` returning a dm_env environment (with `last_info`, optional `split`,
    `language_instruction`, `bottleneck_stage` attributes). `start_stage > 0` starts every robot_io
    episode at the hand-off state of that stage (a bottleneck specialist's own episodes)."""
    if env_factory:
        if start_stage:
            raise RldgError("start_stage is only supported for robot_io tasks, not with env_factory")
        env = load_factory(env_factory)(task, variant, image_size=image_size, wrist=wrist, seed=seed)
        return EnvHandle(env, env, lambda e: getattr(e, "last_info", {}) or {},
                         getattr(env, "split", "seen"), getattr(env, "language_instruction", ""),
                         int(getattr(env, "bottleneck_stage", 0)))
    try:
        import robot_io
    except ImportError as exc:  # pragma: no cover - robot_io ships with this distribution
        raise UnavailableError(f"robot_io cannot be imported ({exc}); pass env_factory") from exc
    sim = robot_io.make(task, variant, image_size=image_size, wrist=wrist, render=True, seed=seed)
    tap = _InfoTap(sim, start_stage)
    env = robot_io.DmEnv(tap)
    return EnvHandle(env, sim, lambda e: tap.last_info, str(sim.split), str(sim.language_instruction),
                     int(getattr(sim, "bottleneck_stage", 0)), tap.seed)


def make_policy(kind: str, handle: EnvHandle, seed: int, demonstrator_factory: str = ""):
    """A policy from a `--policy` string: `expert` / `human` (robot_io demonstrators, or
    `demonstrator_factory(kind, env, seed=)`), a checkpoint folder (`rldg_data.policy.load_policy`),
    or a `module:function` factory called as `function(env, seed=)`."""
    if kind in DEMONSTRATORS:
        if demonstrator_factory:
            return load_factory(demonstrator_factory)(kind, handle.sim, seed=seed)
        import robot_io

        return robot_io.make_demonstrator(kind, handle.sim, seed=seed)
    if Path(kind).is_dir():
        from rldg_data.policy import load_policy

        return load_policy(kind)
    if ":" in kind:
        return load_factory(kind)(handle.sim, seed=seed)
    raise RldgError(f"--policy {kind!r} is neither expert, human, a checkpoint folder nor a "
                    f"'module:function' factory")


HANDOFFS = ("", "human-first", "policy-first")


def make_actor(policy: str, handle: EnvHandle, seed: int, *, handoff: str = "",
               intervene_with: str = "", rule: Optional[InterventionRule] = None,
               demonstrator_factory: str = ""):
    """The labelled actor of a collection run.

    handoff "human-first": the human proxy acts until the bottleneck stage, then `policy`;
    "policy-first": `policy` acts through the bottleneck stage, then the human proxy.
    intervene_with "expert"/"human": that demonstrator takes over when `policy` errs (`rule`).
    """
    if handoff not in HANDOFFS:
        raise RldgError(f"handoff {handoff!r} is not one of {HANDOFFS}")
    main = make_policy(policy, handle, seed, demonstrator_factory)
    if intervene_with:
        helper = make_policy(intervene_with, handle, seed + 1, demonstrator_factory)
        main_actor = InterveningActor(main, helper, rule or InterventionRule())
        if handoff:
            raise RldgError("a hand-off and interventions in one run are not supported; pick one")
        return main_actor
    if not handoff:
        return SingleActor(main)
    human = make_policy("human", handle, seed + 1, demonstrator_factory)
    stage = handle.bottleneck_stage
    if handoff == "human-first":
        return HandOffActor(human, main, stage)
    return HandOffActor(main, human, stage + 1)
