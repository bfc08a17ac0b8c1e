"""Action relabeling: replace the actions of some steps with a policy's actions on the same states.

The RLDG ablation: human-demonstrated states with a specialist's actions close most of the gap to
pure RL data. State-based specialists act on `observation/privileged_state` (+ `state`), so the
images can stay encoded; an image policy needs decoded frames (the Beam layer decodes when asked).
"""

from __future__ import annotations

from typing import Collection

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError

_OBS_FIELDS = (spec.IMAGE, spec.WRIST_IMAGE, spec.STATE, spec.PRIVILEGED_STATE)


def step_observation(episode: Episode, t: int) -> dict[str, np.ndarray]:
    """The observation dict a `Policy` sees at step t (`image`, `state`, ...; encoded frames left out)."""
    obs = {}
    for name in _OBS_FIELDS:
        values = episode.steps.get(name)
        if values is None or values.dtype == object:
            continue
        obs[name.split("/", 1)[1]] = values[t]
    return obs


def relabel_actions(episode: Episode, policy, sources: Collection[str] = (spec.SOURCE_HUMAN,)) -> Episode:
    """Actions of the steps whose `source` is in `sources` come from `policy.act(observation)`.

    The last step keeps its action (it carries the final observation, nothing is done from it).
    Actions are clipped to the contract's [-1, 1]; `policy_id` records both origins
    (`<old>+actions:<policy>`). The per-step `source` is kept: it says who produced the states.
    """
    steps = episode.steps
    which = np.isin(np.asarray(steps[spec.SOURCE]).astype(str), list(sources))
    which[-1:] = False
    if not which.any():
        return episode
    actions = np.array(steps[spec.ACTION], np.float32, copy=True)
    policy.reset(seed=episode.metadata.seed)
    for t in np.flatnonzero(which):
        action = np.asarray(policy.act(step_observation(episode, int(t))), np.float32).reshape(-1)
        if action.shape != actions.shape[1:]:
            raise ContractError(f"policy {policy.policy_id!r} returned an action of shape {action.shape}, "
                                f"the episode's actions are {actions.shape[1:]}",
                                episode_id=episode.episode_id, step=int(t), field=spec.ACTION)
        actions[t] = np.clip(action, spec.ACTION_LOW, spec.ACTION_HIGH)
    policy_id = f"{episode.metadata.policy_id}+actions:{policy.policy_id}"
    return episode.replace({spec.ACTION: actions}, policy_id=policy_id)
