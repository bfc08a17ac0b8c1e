"""Human-data cleaning: drop the demonstrator's pauses (steps with no hand motion).

People stop and think; the human proxy does too, on about 28% of its steps. A deterministic
behaviour-cloning policy cannot represent "sometimes stand still" and learns small, stalling
actions instead. Trimming the idle steps keeps every state the hand moved through, in order; the
world does not change during a pause (the hand holds still), so the remaining steps still follow
one another. The first and the last step are always kept (RLDS `is_first` / final observation).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode

IDLE_ACTION = 1e-3  # a step whose hand command is below this on every axis is a pause
HAND_AXES = 3  # the first action dimensions move the hand; the last one is the gripper command


def idle_steps(episode: Episode, threshold: float = IDLE_ACTION,
               sources: Sequence[str] = (spec.SOURCE_HUMAN,)) -> np.ndarray:
    """Boolean mask [T]: steps of one of `sources` whose hand command is idle (gripper ignored);
    the first and last steps are never idle."""
    actions = np.asarray(episode.steps[spec.ACTION])
    idle = np.abs(actions[:, :HAND_AXES]).max(-1) <= threshold
    if spec.SOURCE in episode.steps:
        idle &= np.isin(np.asarray(episode.steps[spec.SOURCE]).astype(str), list(sources))
    if len(idle):
        idle[0] = idle[-1] = False
    return idle


def trim_pauses(episode: Episode, threshold: float = IDLE_ACTION,
                sources: Sequence[str] = (spec.SOURCE_HUMAN,)) -> Episode:
    """The episode without its idle steps (see `idle_steps`); metadata `length` follows."""
    keep = ~idle_steps(episode, threshold, sources)
    if keep.all():
        return episode
    steps = {key: np.asarray(values)[keep] for key, values in episode.steps.items()}
    return episode.replace(steps, length=int(keep.sum()))
