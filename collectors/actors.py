"""Who acts at each step: policies and demonstrators combined into one labelled actor.

An `Actor` returns an action *and* the contract `source` of that action, so provenance is decided
where the action is chosen, never guessed afterwards. `SingleActor` wraps one policy or
demonstrator; `HandOffActor` switches between two at a stage boundary (human proxy on the easy
stages, RL specialist from the bottleneck stage on, or the reverse); `InterveningActor` lets a
demonstrator take over from a policy for a few steps when the policy errs (HIL-SERL style), those
steps labelled `intervention`. Everything here is pure Python on numpy observations.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Optional, Protocol

import numpy as np

from rldg_data.errors import ConfigError
from rldg_data.contract import spec
from rldg_data.policy import Policy


class Actor(Protocol):
    """Chooses one action per step and says who chose it (a contract source)."""

    policy_id: str

    def reset(self, seed: Optional[int] = None) -> None: ...

    def act(self, observation: Mapping[str, np.ndarray], stage: int) -> tuple[np.ndarray, str]: ...


def source_of(policy: Policy, default: str = spec.SOURCE_RL) -> str:
    """The contract source of a policy: its `.source` attribute (demonstrators have one:
    `scripted` for the expert, `human` for the human proxy), else `default` (a checkpoint: `rl`)."""
    source = getattr(policy, "source", None) or default
    if source not in spec.SOURCES:
        raise ConfigError(f"policy {policy.policy_id!r} has source {source!r}, not one of {spec.SOURCES}")
    return source


def _action(policy: Policy, observation) -> np.ndarray:
    return np.clip(np.asarray(policy.act(observation), np.float32), spec.ACTION_LOW, spec.ACTION_HIGH)


class SingleActor:
    """One policy or demonstrator acts on every step."""

    def __init__(self, policy: Policy, source: Optional[str] = None) -> None:
        self.policy = policy
        self.source = source or source_of(policy)
        self.policy_id = policy.policy_id

    def reset(self, seed: Optional[int] = None) -> None:
        self.policy.reset(seed)

    def act(self, observation, stage: int) -> tuple[np.ndarray, str]:
        return _action(self.policy, observation), self.source


class HandOffActor:
    """`first` acts while `stage < switch_stage`, `second` from then on (a one-way hand-off).

    For a long task: the human proxy drives the easy stages and the RL specialist takes over at the
    bottleneck stage (`switch_stage = env.bottleneck_stage`); the reverse hand-off gives the
    specialist the early stages and the human the rest. Each step keeps its actor's source.
    """

    def __init__(self, first: Policy, second: Policy, switch_stage: int,
                 first_source: Optional[str] = None, second_source: Optional[str] = None) -> None:
        self.first, self.second, self.switch_stage = first, second, int(switch_stage)
        self.first_source = first_source or source_of(first)
        self.second_source = second_source or source_of(second)
        self.policy_id = f"{first.policy_id}>{second.policy_id}@stage{self.switch_stage}"
        self._handed_off = False

    def reset(self, seed: Optional[int] = None) -> None:
        self.first.reset(seed)
        self.second.reset(None if seed is None else seed + 1)
        self._handed_off = False

    def act(self, observation, stage: int) -> tuple[np.ndarray, str]:
        if stage >= self.switch_stage:
            self._handed_off = True  # one way: a stage that drops back does not hand back
        if self._handed_off:
            return _action(self.second, observation), self.second_source
        return _action(self.first, observation), self.first_source


@dataclasses.dataclass(frozen=True)
class InterventionRule:
    """When a demonstrator takes over from the policy, and for how long.

    threshold: the demonstrator intervenes when the policy's action differs from its own by more
      than this (max over the xyz action dimensions; the gripper dimension is left out since both
      agree on it most of the time and a flip is not an error by itself).
    hold_steps: how many steps the demonstrator keeps control once it intervenes.
    """

    threshold: float = 0.5
    hold_steps: int = 10

    def __post_init__(self) -> None:
        if self.threshold <= 0 or self.hold_steps <= 0:
            raise ConfigError(f"InterventionRule needs threshold > 0 and hold_steps > 0, got {self}")


class InterveningActor:
    """The policy acts; a demonstrator watching it takes over for `rule.hold_steps` steps whenever
    the policy's action strays from its own by more than `rule.threshold` (HIL-SERL). Steps under
    the demonstrator's control are labelled `intervention`. `interventions` counts take-overs."""

    def __init__(self, policy: Policy, demonstrator: Policy, rule: InterventionRule = InterventionRule(),
                 source: Optional[str] = None) -> None:
        self.policy, self.demonstrator, self.rule = policy, demonstrator, rule
        self.source = source or source_of(policy)
        self.policy_id = f"{policy.policy_id}+{demonstrator.policy_id}"
        self._left = 0
        self.interventions = 0

    def reset(self, seed: Optional[int] = None) -> None:
        self.policy.reset(seed)
        self.demonstrator.reset(None if seed is None else seed + 1)
        self._left = 0
        self.interventions = 0

    def act(self, observation, stage: int) -> tuple[np.ndarray, str]:
        own = _action(self.policy, observation)
        correct = _action(self.demonstrator, observation)  # every step: the watcher keeps its state
        if self._left == 0 and float(np.max(np.abs(own[:3] - correct[:3]))) > self.rule.threshold:
            self._left = self.rule.hold_steps
            self.interventions += 1
        if self._left > 0:
            self._left -= 1
            return correct, spec.SOURCE_INTERVENTION
        return own, self.source
