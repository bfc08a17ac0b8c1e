"""Stitching: a human segment up to the hand-off step, then a specialist segment, as one episode.

Long tasks use humans for the easy stages and an RL specialist for the bottleneck stage; the
stitched episode keeps per-step `source` and `stage`, so a trainer (or a plot) still sees who did
what, while the generalist gets one whole-task trajectory.
"""

from __future__ import annotations

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError


def stitch_handoff(human: Episode, specialist: Episode, handoff: int,
                   episode_id: str | None = None) -> Episode:
    """Steps [0, handoff) of `human` followed by every step of `specialist`.

    The specialist episode is the one that started from the human's state at `handoff`.
    is_first/is_last/is_terminal are re-derived for the joined episode; success and terminal
    come from the specialist; `policy_id` is "<human policy>+<specialist policy>".
    """
    if not 0 < handoff <= len(human):
        raise ContractError(f"hand-off step {handoff} outside (0, {len(human)}]",
                            episode_id=human.episode_id, step=handoff, field=spec.STEPS)
    if set(human.steps) != set(specialist.steps):
        diff = sorted(set(human.steps) ^ set(specialist.steps))
        raise ContractError(f"cannot stitch episodes with different step fields {diff}",
                            episode_id=f"{human.episode_id}+{specialist.episode_id}", field=diff[0])
    steps = {name: np.concatenate([human.steps[name][:handoff], specialist.steps[name]])
             for name in human.steps}
    n = len(steps[spec.ACTION])
    first = np.zeros(n, np.bool_)
    first[0] = True
    last = np.zeros(n, np.bool_)
    last[-1] = True
    terminal = np.zeros(n, np.bool_)
    terminal[-1] = bool(specialist.steps[spec.IS_TERMINAL][-1])
    steps.update({spec.IS_FIRST: first, spec.IS_LAST: last, spec.IS_TERMINAL: terminal})
    steps[spec.SOURCE] = steps[spec.SOURCE].astype(np.str_)
    steps[spec.LANGUAGE_INSTRUCTION] = steps[spec.LANGUAGE_INSTRUCTION].astype(np.str_)
    meta = human.metadata
    stitched = Episode(steps, meta)
    return stitched.replace(
        episode_id=episode_id or f"{human.episode_id}+{specialist.episode_id}@{handoff}",
        policy_id=f"{meta.policy_id}+{specialist.metadata.policy_id}",
        success=bool(specialist.metadata.success),
        episode_return=float(np.sum(steps[spec.REWARD], dtype=np.float64)),
        length=n,
    )
