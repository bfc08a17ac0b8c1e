"""Specialist checkpoints on disk (no pickle) and the policy that acts from one.

A checkpoint is a folder: `policy.json` (format "specialist", task, variant, sizes, the configs that
made it, its evaluation), `actor.npz` (the actor's parameters, flat '/'-keyed float32 arrays, read
with `allow_pickle=False`), and the learning curve (`curve.json`, `curve.csv`). `load_policy` is
registered in setup.py's `rldg.policies` group, so `rldg_data.policy.load_policy(path)` finds it.
The forward pass is numpy only: collectors need no JAX to roll a specialist out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np

from rldg_data.io.atomic import write_text_atomic
from rldg_data.io.outputs import publish_output
from rldg_data.errors import RldgError

FORMAT = "specialist"
POLICY_FILE = "policy.json"
ACTOR_FILE = "actor.npz"
LAYER_NORM_EPS = 1e-6


class NumpyActor:
    """The tanh-Gaussian actor of `networks.Actor`, evaluated with numpy from flat parameters."""

    def __init__(self, params: Mapping[str, np.ndarray], log_std_min: float = -5.0,
                 log_std_max: float = 2.0) -> None:
        self.params = {k: np.asarray(v, np.float32) for k, v in params.items()}
        self.num_layers = sum(1 for k in self.params if k.startswith("trunk/dense_") and k.endswith("/kernel"))
        if not self.num_layers or "mean/kernel" not in self.params:
            raise RldgError(f"actor parameters lack trunk/dense_*/kernel or mean/kernel: {sorted(self.params)[:6]}")
        self.log_std_min, self.log_std_max = log_std_min, log_std_max

    @property
    def obs_dim(self) -> int:
        return int(self.params["trunk/dense_0/kernel"].shape[0])

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """obs [..., obs_dim] -> (pre-tanh mean, log_std)."""
        p = self.params
        x = np.asarray(obs, np.float32)
        for i in range(self.num_layers):
            x = x @ p[f"trunk/dense_{i}/kernel"] + p[f"trunk/dense_{i}/bias"]
            mean = x.mean(-1, keepdims=True)
            var = np.maximum((x * x).mean(-1, keepdims=True) - mean * mean, 0.0)
            x = (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * p[f"trunk/norm_{i}/scale"] + p[f"trunk/norm_{i}/bias"]
            x = np.maximum(x, 0.0)
        mean = x @ p["mean/kernel"] + p["mean/bias"]
        raw = x @ p["log_std/kernel"] + p["log_std/bias"]
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (np.tanh(raw) + 1.0)
        return mean, log_std

    def deterministic(self, obs: np.ndarray) -> np.ndarray:
        """tanh of the mean: the action used for evaluation and rollouts."""
        return np.tanh(self.forward(obs)[0]).astype(np.float32)

    def explore(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A sample of the tanh-Gaussian (training-time exploration)."""
        mean, log_std = self.forward(obs)
        return np.tanh(mean + np.exp(log_std) * rng.standard_normal(mean.shape)).astype(np.float32)


class ActionHold:
    """Holds each action of `act` for `repeat` calls: a policy trained at a lower control rate
    (`TrainConfig.action_repeat`) acting in the simulator's control loop. `reset` at episode start."""

    def __init__(self, act: Callable[[Any], np.ndarray], repeat: int = 1) -> None:
        self.act, self.repeat = act, max(1, int(repeat))
        self._left, self._action = 0, None

    def reset(self, seed: int | None = None) -> None:
        self._left, self._action = 0, None

    def __call__(self, observation: Any) -> np.ndarray:
        if self._left == 0:
            self._action, self._left = self.act(observation), self.repeat
        self._left -= 1
        return self._action


def weights_hash(params: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over sorted names and bytes of the parameters (first 12 hex digits)."""
    h = hashlib.sha256()
    for key in sorted(params):
        h.update(key.encode() + b"\0" + np.ascontiguousarray(params[key], np.float32).tobytes())
    return h.hexdigest()[:12]


class SpecialistPolicy:
    """A specialist as an `rldg_data.policy.Policy`: acts on `observation["privileged_state"]`.

    A specialist trained with `action_repeat` k decides every k-th call and repeats its action in
    between, as in training (`hold=False` decides on every call, e.g. to label single states).
    """

    def __init__(self, actor: NumpyActor, task: str, variant: str, info: Optional[Mapping] = None,
                 obs_key: str = "privileged_state", hold: bool = True) -> None:
        self.actor, self.task, self.variant = actor, task, variant
        self.info = dict(info or {})
        self.obs_key = obs_key
        self.policy_id = f"{FORMAT}/{task}/{variant}/{weights_hash(actor.params)}"
        repeat = int(self.info.get("config", {}).get("action_repeat", 1)) if hold else 1
        self._hold = ActionHold(self._decide, repeat)

    @property
    def action_repeat(self) -> int:
        return self._hold.repeat

    def reset(self, seed: int | None = None) -> None:
        """Forgets the held action (the policy is otherwise deterministic and stateless)."""
        self._hold.reset(seed)

    def act(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        return self._hold(observation)

    def _decide(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        if self.obs_key not in observation:
            raise RldgError(f"{self.policy_id} acts on observation[{self.obs_key!r}], which is missing "
                            f"(keys: {sorted(observation)}); make the env with privileged state")
        obs = np.asarray(observation[self.obs_key], np.float32)
        if obs.shape != (self.actor.obs_dim,):
            raise RldgError(f"{self.policy_id}: observation[{self.obs_key!r}] has shape {obs.shape}, "
                            f"the checkpoint expects ({self.actor.obs_dim},)")
        return self.actor.deterministic(obs)


COMMAND = "rldg specialist train"


def save_checkpoint(folder: str | os.PathLike, params: Mapping[str, np.ndarray], meta: Mapping[str, Any],
                    curve: Optional[list[Mapping[str, Any]]] = None) -> Path:
    """Writes a checkpoint folder atomically (temp folder, then rename over an older checkpoint this
    command wrote there; a folder holding anything else is refused: io.outputs)."""
    folder = Path(folder)
    tmp = folder.with_name(f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        np.savez(tmp / ACTOR_FILE, **{k: np.asarray(v, np.float32) for k, v in params.items()})
        info = {"format": FORMAT, **meta, "weights_hash": weights_hash(params)}
        (tmp / POLICY_FILE).write_text(json.dumps(info, indent=2, sort_keys=True))
        if curve is not None:
            write_curve(tmp, curve)
        publish_output(tmp, folder, COMMAND, force=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_curve(folder: Path, curve: list[Mapping[str, Any]]) -> None:
    """The learning curve as curve.json (list of rows) and curve.csv (same columns)."""
    columns = sorted({k for row in curve for k in row})
    lines = [",".join(columns)] + [",".join("" if row.get(c) is None else str(row.get(c)) for c in columns)
                                   for row in curve]
    write_text_atomic(folder / "curve.json", json.dumps(list(curve), indent=1))
    write_text_atomic(folder / "curve.csv", "\n".join(lines) + "\n")


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The policy.json of a specialist checkpoint; RldgError if it is not one."""
    file = Path(path) / POLICY_FILE
    try:
        meta = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RldgError(f"{file}: not a readable specialist checkpoint ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise RldgError(f"{file}: format is {meta.get('format')!r}, not {FORMAT!r}")
    return meta


def load_policy(path: str | os.PathLike, **kwargs) -> SpecialistPolicy:
    """Loads a specialist checkpoint folder as a Policy (registered in `rldg.policies`)."""
    meta = read_meta(path)
    file = Path(path) / ACTOR_FILE
    try:
        with np.load(file, allow_pickle=False) as data:
            params = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise RldgError(f"{file}: cannot read the actor weights ({exc})") from exc
    if meta.get("weights_hash") and weights_hash(params) != meta["weights_hash"]:
        raise RldgError(f"{file}: weights do not match the hash in {POLICY_FILE} (damaged or replaced)")
    sac = meta.get("config", {}).get("sac", {})
    actor = NumpyActor(params, sac.get("log_std_min", -5.0), sac.get("log_std_max", 2.0))
    return SpecialistPolicy(actor, meta.get("task", ""), meta.get("variant", ""), meta, **kwargs)
