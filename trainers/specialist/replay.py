"""Replay buffers of transitions and RLPD's symmetric sampling (online half, demonstration half).

Pure numpy: a fixed-capacity ring buffer per source, filled one transition (online) or one episode
(demonstrations) at a time, and `sample_rounds` drawing the [rounds, utd, batch] arrays that
`sac.SAC.update` consumes in one jitted call.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from rldg_data.errors import RldgError


class ReplayBuffer:
    """A ring buffer of (obs, action, reward, next_obs, done) transitions."""

    def __init__(self, obs_dim: int, action_dim: int, capacity: int) -> None:
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.action = np.zeros((capacity, action_dim), np.float32)
        self.reward = np.zeros(capacity, np.float32)
        self.done = np.zeros(capacity, np.float32)
        # Discounted return actually collected from each transition to the end of its episode
        # (`finish_episode`); -inf until the episode is over (no bound).
        self.mc_return = np.full(capacity, -np.inf, np.float32)
        # 1 where the BC term may use the action (demonstration steps whose hand moves; online
        # steps of successful episodes with TrainConfig.imitate_successes), else 0.
        self.bc = np.ones(capacity, np.float32)
        self.size = 0
        self._next = 0
        self._episode_start = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward: float, next_obs, done: bool, bc: bool = True) -> None:
        i = self._next
        self.obs[i], self.action[i], self.reward[i] = obs, action, reward
        self.next_obs[i], self.done[i] = next_obs, float(done)
        self.mc_return[i], self.bc[i] = -np.inf, float(bc)
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add_many(self, transitions: Iterable[tuple]) -> None:
        for t in transitions:
            self.add(*t)

    def add_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Appends whole transitions at once (`episode_transitions`' output, `mc_return` included)."""
        n = len(arrays["obs"])
        if n > self.capacity:
            raise RldgError(f"{n} transitions do not fit a buffer of capacity {self.capacity}")
        idx = (self._next + np.arange(n)) % self.capacity
        for key in ("obs", "action", "reward", "next_obs", "done", "mc_return", "bc"):
            getattr(self, key)[idx] = arrays[key]
        self._next = int((self._next + n) % self.capacity)
        self._episode_start = self._next
        self.size = min(self.size + n, self.capacity)

    def finish_episode(self, discount: float, imitate: bool = False) -> None:
        """Fills `mc_return` of the transitions added since the last call (one whole episode).

        A truncated episode gets the return it collected up to truncation: still a lower bound of
        the optimal Q, which is how the critic uses it (`SACConfig.mc_lower_bound`). `imitate`
        marks the whole episode for the BC term (a successful online episode).
        """
        n = (self._next - self._episode_start) % self.capacity
        if n == 0 and self.size == self.capacity:
            n = self.capacity
        g = 0.0
        for k in range(n - 1, -1, -1):
            i = (self._episode_start + k) % self.capacity
            g = self.reward[i] + discount * (1.0 - self.done[i]) * g
            self.mc_return[i] = g
            if imitate:
                self.bc[i] = 1.0
        self._episode_start = self._next

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        if self.size == 0:
            raise RldgError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, self.size, shape)
        return {"obs": self.obs[idx], "action": self.action[idx], "reward": self.reward[idx],
                "next_obs": self.next_obs[idx], "done": self.done[idx],
                "mc_return": self.mc_return[idx], "bc": self.bc[idx]}


def sample_rounds(
    online: ReplayBuffer,
    demos: ReplayBuffer | None,
    rng: np.random.Generator,
    *,
    rounds: int,
    utd: int,
    batch_size: int,
    demo_fraction: float,
) -> dict[str, np.ndarray]:
    """Batches [rounds, utd, batch_size, ...]: `demo_fraction` of each from the demos (RLPD: 0.5).

    With no (or an empty) demonstration buffer every row comes from the online buffer; with an empty
    online buffer every row comes from the demonstrations (pre-training on demos alone).
    """
    n_demo = int(round(batch_size * demo_fraction)) if demos is not None and len(demos) else 0
    if len(online) == 0:
        n_demo = batch_size
    parts, flags = [], []
    if batch_size - n_demo:
        parts.append(online.sample(rng, (rounds, utd, batch_size - n_demo)))
        flags.append(np.zeros((rounds, utd, batch_size - n_demo), np.float32))
    if n_demo:
        parts.append(demos.sample(rng, (rounds, utd, n_demo)))
        flags.append(np.ones((rounds, utd, n_demo), np.float32))
    batch = {k: np.concatenate([p[k] for p in parts], axis=2) for k in parts[0]}
    batch["is_demo"] = np.concatenate(flags, axis=2)
    batch["bc_mask"] = batch.pop("bc")
    return batch


def episode_transitions(obs: np.ndarray, actions: np.ndarray, success: bool, step_cost: float = 0.0,
                        repeat: int = 1, discount: float = 0.99,
                        bc_steps: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Transitions of one recorded episode (RLDS alignment: T observations, the last one final), as
    arrays for `ReplayBuffer.add_arrays`, at a `repeat`-times lower control rate.

    One transition per start step t (a sliding window, so no demonstration step is dropped):
    obs[t], the mean of actions[t:t+repeat] (the hand moves the same distance when that mean is held
    `repeat` steps), obs[t+repeat] (clipped to the end). Rewards are relabeled from the outcome as
    the online environment gives them per decision: 1 on the window that reaches success (which also
    ends the episode), minus `step_cost` on every one. `mc_return` is the discounted return that
    follows each transition (t -> t+repeat -> ...). `bc_steps` [T-1] marks the steps a BC term may
    imitate; a window may be imitated only if all its steps may (default: all).
    """
    n = len(obs) - 1
    repeat = max(1, int(repeat))
    ends = np.minimum(np.arange(n) + repeat, n)
    acts = np.asarray(actions[:n], np.float32)
    csum = np.concatenate([np.zeros((1, acts.shape[1])), np.cumsum(acts, 0, dtype=np.float64)])
    starts = np.arange(n)
    action = ((csum[ends] - csum[starts]) / (ends - starts)[:, None]).astype(np.float32)
    final = ends == n
    done = (final & bool(success)).astype(np.float32)
    reward = (done - step_cost).astype(np.float32)
    mc = np.zeros(n, np.float64)
    for t in range(n - 1, -1, -1):
        mc[t] = reward[t] + (0.0 if final[t] else discount * mc[ends[t]])
    ok = np.ones(n, bool) if bc_steps is None else np.asarray(bc_steps, bool)[:n]
    bad = np.concatenate([[0], np.cumsum(~ok)])
    bc = (bad[ends] - bad[starts]) == 0
    return {"obs": np.asarray(obs[:n], np.float32), "action": action, "reward": reward,
            "next_obs": np.asarray(obs[ends], np.float32), "done": done,
            "mc_return": mc.astype(np.float32), "bc": bc.astype(np.float32)}
