"""Scripted experts: clean, fast demonstrations from the privileged state (one per task family).

Each expert is a small phase machine in the spirit of Meta-World's scripted policies, tuned so
that the *strict* success tests of robot_io succeed (the insertion expert aligns the peg tip
with the hole by feedback on the tip position and pushes 3.5 cm deep). `tuned_to` gives an
expert that does not sense the peg tip but relies on the geometry of another variant (peg size,
length and grasp height), as a controller hand-tuned on one connector would: it is how the suite
shows that seen and unseen connectors really differ.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from robot_io.sim.tasks.assembly import INSERT_DEPTH
from robot_io.sim.tasks.insertion import GRASP_OFFSET
from robot_io.sim.variants import VariantInfo, variant_info

GAIN = 25.0
OPEN, CLOSE = 1.0, -1.0
TCP_BELOW_HAND = 0.045  # the fingertip centre is this far below the hand body


def move(current: np.ndarray, target: np.ndarray, gain: float = GAIN) -> np.ndarray:
    return np.clip((np.asarray(target) - np.asarray(current)) * gain, -1.0, 1.0)


def _action(delta: np.ndarray, grip: float) -> np.ndarray:
    return np.append(delta, grip).astype(np.float32)


class Expert:
    """Base: `reset()` clears the phase, `act(obs)` maps an observation to a float32[4] action."""

    source = "scripted"
    fine_phases: tuple[int, ...] = ()  # phases of precise motion near contact

    def __init__(self, info: VariantInfo, tuned_to: VariantInfo | None = None) -> None:
        self.info = info
        self.tuned = tuned_to
        self.policy_id = f"expert/{info.task}" + (f"@{tuned_to.variant}" if tuned_to else "")
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        self.phase = 0
        self.count = 0

    def act(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    @property
    def fine_motion(self) -> bool:
        """True while the expert is in a precise phase (a person slows down and steadies here)."""
        return self.phase in self.fine_phases

    def _regrasp_if_dropped(self, hand: np.ndarray, grasp: np.ndarray, first_held_phase: int,
                            radius: float = 0.04) -> None:
        """Back to the approach when the object is no longer between the fingers."""
        tcp = hand - [0, 0, TCP_BELOW_HAND]
        if self.phase >= first_held_phase and np.linalg.norm(tcp - grasp) > radius:
            self.phase, self.count = 0, 0

    def _next(self) -> None:
        self.phase += 1
        self.count = 0


class InsertionExpert(Expert):
    """Grasp the peg, lift it to the hole height, align the tip with the hole, push it in."""

    APPROACH, DESCEND, CLOSE_, LIFT, ALIGN, INSERT = range(6)
    fine_phases = (ALIGN, INSERT)

    def act(self, obs):
        p = np.asarray(obs["privileged_state"], dtype=np.float64)
        hand, grasp, hole, tip = p[0:3], p[4:7], p[11:14], p[14:17]
        if self.tuned is None:
            self._regrasp_if_dropped(hand, grasp, self.LIFT)
        self.count += 1
        if self.phase == self.APPROACH:
            target = grasp + [0, 0, 0.10 + TCP_BELOW_HAND]
            if np.linalg.norm(hand[:2] - target[:2]) < 0.008:
                self._next()
            return _action(move(hand, target), OPEN)
        if self.phase == self.DESCEND:
            z = grasp[2] if self.tuned is None else self.tuned.params["half_height"]
            target = np.array([grasp[0], grasp[1], z + TCP_BELOW_HAND])
            if abs(hand[2] - target[2]) < 0.004:
                self._next()
            return _action(move(hand, target), OPEN)
        if self.phase == self.CLOSE_:
            if self.count >= 12:
                self._next()
                self.grasp_hand = hand.copy()
            return _action(np.zeros(3), CLOSE)
        tip_est = tip if self.tuned is None else self._tip_from_hand(hand)
        if self.phase == self.LIFT:
            target = hand + [0, 0, hole[2] - tip_est[2]]
            target[2] = max(target[2], hand[2])
            if abs(tip_est[2] - hole[2]) < 0.01:
                self._next()
            return _action(move(hand, target), CLOSE)
        if self.phase == self.ALIGN:
            goal = hole + [0.04, 0, 0]
            if np.linalg.norm(tip_est - goal) < 0.004 or self.count > 60:
                self._next()
            return _action(move(hand, hand + goal - tip_est), CLOSE)
        goal = hole + [-0.035, 0, 0]
        return _action(move(hand, hand + goal - tip_est, gain=15.0), CLOSE)

    def _tip_from_hand(self, hand: np.ndarray) -> np.ndarray:
        """Where a controller calibrated on `tuned_to` believes the tip is: the hand minus the
        calibrated grasp-to-tip offset of that connector (no tip sensing)."""
        t = self.tuned.params

        return hand + [-(t["length"] / 2 + GRASP_OFFSET), 0.0, -TCP_BELOW_HAND]


class PickPlaceExpert(Expert):
    """Over the object, down, close, then carry the object's centre to the goal."""

    APPROACH, DESCEND, CLOSE_, CARRY = range(4)

    def act(self, obs):
        p = np.asarray(obs["privileged_state"], dtype=np.float64)
        hand, obj, goal = p[0:3], p[4:7], p[11:14]
        self._regrasp_if_dropped(hand, obj, self.CARRY)
        self.count += 1
        if self.phase == self.APPROACH:
            target = obj + [0, 0, 0.08 + TCP_BELOW_HAND]
            if np.linalg.norm(hand[:2] - target[:2]) < 0.008:
                self._next()
            return _action(move(hand, target), OPEN)
        if self.phase == self.DESCEND:
            target = obj + [0, 0, TCP_BELOW_HAND - 0.005]
            target[:2] = obj[:2]
            if abs(hand[2] - target[2]) < 0.005:
                self._next()
            return _action(move(hand, target), OPEN)
        if self.phase == self.CLOSE_:
            if self.count >= 10:
                self._next()
            return _action(np.zeros(3), CLOSE)
        if obj[2] < goal[2] - 0.02 and np.linalg.norm(obj[:2] - goal[:2]) > 0.05 and obj[2] < 0.06:
            # lift first so the object does not drag on the table
            return _action(move(hand, hand + [0, 0, 0.05]), CLOSE)
        return _action(move(hand, hand + goal - obj), CLOSE)


class AssemblyExpert(Expert):
    """Grasp the nut's handle, lift, centre the ring over the peg, lower it down the peg.
    Started with the nut already in the hand (a hand-off state), it goes straight to centring."""

    APPROACH, DESCEND, CLOSE_, LIFT, CENTRE, LOWER = range(6)
    fine_phases = (CENTRE, LOWER)

    @staticmethod
    def _holding(p: np.ndarray) -> bool:
        tcp = p[0:3] - [0, 0, TCP_BELOW_HAND]
        return p[3] < 0.8 and np.linalg.norm(tcp - p[4:7]) < 0.04 and p[6] > 0.04

    def act(self, obs):
        p = np.asarray(obs["privileged_state"], dtype=np.float64)
        hand, handle, top, ring = p[0:3], p[4:7], p[11:14], p[14:17]
        if self.phase == self.APPROACH and self.count == 0 and self._holding(p):
            self.phase = self.CENTRE  # started from a hand-off state: the nut is in the hand
        self._regrasp_if_dropped(hand, handle + [-0.015, 0, 0], self.LIFT, radius=0.05)
        self.count += 1
        grasp = handle + [-0.015, 0, 0]
        if self.phase == self.APPROACH:
            target = grasp + [0, 0, 0.08 + TCP_BELOW_HAND]
            if np.linalg.norm(hand[:2] - target[:2]) < 0.006:
                self._next()
            return _action(move(hand, target), OPEN)
        if self.phase == self.DESCEND:
            target = grasp + [0, 0, TCP_BELOW_HAND - 0.005]
            if abs(hand[2] - target[2]) < 0.005:
                self._next()
            return _action(move(hand, target), OPEN)
        if self.phase == self.CLOSE_:
            if self.count >= 10:
                self._next()
            return _action(np.zeros(3), CLOSE)
        if self.phase == self.LIFT:
            target = np.array([hand[0], hand[1], hand[2] + top[2] + 0.06 - ring[2]])
            if ring[2] > top[2] + 0.045:
                self._next()
            return _action(move(hand, target), CLOSE)
        if self.phase == self.CENTRE:
            goal = np.array([top[0], top[1], top[2] + 0.06])
            if np.linalg.norm(ring[:2] - goal[:2]) < 0.004 or self.count > 80:
                self._next()
            return _action(move(hand, hand + goal - ring), CLOSE)
        goal = top + [0, 0, -INSERT_DEPTH - 0.02]
        delta = goal - ring
        delta[2] = max(delta[2], -0.02)  # descend slowly, keep centring
        return _action(move(hand, hand + delta), CLOSE)


_EXPERTS = {"insertion": InsertionExpert, "pick_place": PickPlaceExpert, "assembly": AssemblyExpert}


def make_expert(env, tuned_to: str | None = None) -> Expert:
    """The scripted expert of `env`'s task; `tuned_to` names a variant whose geometry it assumes."""
    info = variant_info(env.task, env.variant)
    tuned = variant_info(env.task, tuned_to) if tuned_to else None
    return _EXPERTS[env.task](info, tuned)
