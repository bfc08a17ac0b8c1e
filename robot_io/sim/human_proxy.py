"""A seeded stand-in for a teleoperating human: the scripted expert seen through human habits.

Real teleoperation is slower and less reliable than a script. Slowing the expert by scaling its
actions breaks it; instead this proxy keeps the expert's intent and adds what people
do: pauses (no motion for a while), auto-correlated (Ornstein-Uhlenbeck) hand noise, hesitations
(stretches of slow, timid motion) and corrections (a drift in a wrong direction that the expert's
feedback then undoes). Everything is drawn from one seeded generator, so a seed gives the same
demonstration.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from robot_io.sim.experts import Expert


@dataclasses.dataclass(frozen=True)
class HumanProxyConfig:
    """Rates are per step; durations in steps."""

    pause_rate: float = 0.03
    pause_steps: tuple[int, int] = (6, 20)
    noise_sigma: float = 0.3
    careful_noise: float = 0.25  # noise scale when the intended motion is small
    fine_noise: float = 0.12     # noise scale in the expert's precise phases (near contact)
    fine_speed: float = 0.6      # and people move slower there
    noise_theta: float = 0.15
    hesitation_rate: float = 0.03
    hesitation_steps: tuple[int, int] = (8, 25)
    hesitation_speed: float = 0.35
    correction_rate: float = 0.015
    correction_steps: tuple[int, int] = (4, 10)
    correction_speed: float = 0.6


class HumanProxy:
    """Wraps an expert; same interface (`source`, `policy_id`, `reset`, `act`)."""

    source = "human"

    def __init__(self, expert: Expert, seed: int = 0, config: HumanProxyConfig = HumanProxyConfig()) -> None:
        self.expert = expert
        self.config = config
        self.policy_id = f"human_proxy/{expert.info.task}"
        self._seed = seed
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(self._seed if seed is None else seed)
        self.expert.reset()
        self.noise = np.zeros(3)
        self.pause = self.hesitate = self.correct = 0
        self.drift = np.zeros(3)

    def _duration(self, bounds: tuple[int, int]) -> int:
        return int(self.rng.integers(bounds[0], bounds[1] + 1))

    def act(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        c = self.config
        intended = np.asarray(self.expert.act(obs), dtype=np.float64)
        self.noise += -c.noise_theta * self.noise + c.noise_sigma * np.sqrt(2 * c.noise_theta) * self.rng.normal(size=3)
        if self.pause == 0 and self.rng.random() < c.pause_rate:
            self.pause = self._duration(c.pause_steps)
        if self.hesitate == 0 and self.rng.random() < c.hesitation_rate:
            self.hesitate = self._duration(c.hesitation_steps)
        if self.correct == 0 and self.rng.random() < c.correction_rate:
            self.correct = self._duration(c.correction_steps)
            direction = self.rng.normal(size=3)
            self.drift = c.correction_speed * direction / np.linalg.norm(direction)
        move = intended[:3].copy()
        if self.pause > 0:
            self.pause -= 1
            move[:] = 0.0
            self.expert.count = max(self.expert.count - 1, 0)  # the expert's timers wait too
        else:
            if self.hesitate > 0:
                self.hesitate -= 1
                move *= c.hesitation_speed
            if self.correct > 0:
                self.correct -= 1
                move = move + self.drift
            care = c.careful_noise + (1 - c.careful_noise) * min(1.0, float(np.linalg.norm(intended[:3])))
            if getattr(self.expert, "fine_motion", False):
                care = min(care, c.fine_noise)
                move *= c.fine_speed
            move = move + care * self.noise
        return np.append(np.clip(move, -1.0, 1.0), intended[3]).astype(np.float32)
