"""Generalist checkpoints: a folder with policy.json (format, config, statistics, dims) and
`weights.pt` (a state_dict of tensors only, read with `weights_only=True`: no pickled objects), and
`GeneralistPolicy`, the `rldg_data.policy.Policy` that acts with one."""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from rldg_data.io.images import resize_frame
from rldg_data.io.outputs import output_dir
from rldg_data.errors import RldgError
from rldg_data.loaders.normalize import Normalizer
from rldg_data.policy import POLICY_FILE
from trainers.generalist.config import GeneralistConfig

WEIGHTS_FILE = "weights.pt"
FORMAT = "generalist"


COMMAND = "rldg generalist train"


def save_checkpoint(folder: str | os.PathLike, model, config: GeneralistConfig, statistics: dict,
                    extra: Optional[Mapping] = None, *, force: bool = False,
                    inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """Writes a checkpoint folder atomically (temp folder, then rename; io.outputs: a new or empty
    folder, or with `force` an earlier checkpoint of this command holding nothing else)."""
    import torch

    folder = Path(folder)
    with output_dir(folder, COMMAND, force=force, inputs=inputs) as tmp:
        info = {"format": FORMAT, "config": config.to_dict(), "statistics": statistics,
                "state_dim": model.state_dim, "action_dim": model.action_dim, **dict(extra or {})}
        (tmp / POLICY_FILE).write_text(json.dumps(info, indent=2, sort_keys=True))
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp / WEIGHTS_FILE)
    return folder


def load_model(path: str | os.PathLike):
    """(model in eval mode, policy.json contents) of a checkpoint folder."""
    import torch

    from trainers.generalist.model import GeneralistNet

    path = Path(path)
    try:
        info = json.loads((path / POLICY_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RldgError(f"{path / POLICY_FILE}: unreadable generalist checkpoint ({exc})") from exc
    if info.get("format") != FORMAT:
        raise RldgError(f"{path} holds a {info.get('format')!r} checkpoint, not a generalist")
    config = GeneralistConfig.from_dict(info["config"])
    model = GeneralistNet(config, int(info["state_dim"]), int(info["action_dim"]))
    model.load_state_dict(torch.load(path / WEIGHTS_FILE, weights_only=True))
    model.eval()
    return model, info


class GeneralistPolicy:
    """Acts with a generalist: keeps the last `window` observations, predicts a chunk each step
    and averages the overlapping chunk predictions made for it (temporal ensembling, weights
    exp(-decay * age), newest first) or, without ensembling, runs each chunk open loop."""

    def __init__(self, model, info: dict, instruction: str = "", policy_id: str = "",
                 open_loop: bool = False) -> None:
        self.model, self.info = model, info
        self.config: GeneralistConfig = model.config
        self.ensemble = self.config.ensemble and not open_loop
        self.normalizer = Normalizer(info["statistics"], self.config.normalization)
        self.instruction = instruction
        self.policy_id = policy_id or info.get("policy_id", "generalist")
        self.reset()

    def reset(self, seed: Optional[int] = None) -> None:
        self._history: collections.deque = collections.deque(maxlen=self.config.window)
        self._chunks: collections.deque = collections.deque(maxlen=self.config.chunk)
        self._queue: list[np.ndarray] = []

    def _observe(self, observation: Mapping[str, np.ndarray]) -> None:
        frame = resize_frame(observation["image"], self.config.image_size)
        if self.config.wrist:
            frame = np.concatenate([frame, resize_frame(observation["wrist_image"], self.config.image_size)], -1)
        state = self.normalizer.normalize(np.asarray(observation["state"])[None], "proprio")[0]
        if not self._history:
            self._history.extend([(frame, state)] * self.config.window)
        self._history.append((frame, state))

    def _predict(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        import torch

        from trainers.generalist.model import hash_tokens

        images = np.stack([f for f, _ in self._history])[None]
        states = np.stack([s for _, s in self._history])[None]
        text = str(observation.get("language_instruction", self.instruction))
        tokens, offsets = hash_tokens([text], self.config.lang_buckets)
        with torch.no_grad():
            out = self.model(torch.from_numpy(images), torch.from_numpy(states), tokens, offsets)
        return out[0].numpy()

    def act(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        self._observe(observation)
        if not self.ensemble:
            if not self._queue:
                self._queue = list(self._predict(observation))
            action = self._queue.pop(0)
        else:
            self._chunks.append(self._predict(observation))
            ages = np.arange(len(self._chunks))[::-1]  # newest chunk has age 0
            preds = np.stack([chunk[age] for chunk, age in zip(self._chunks, ages)])
            weights = np.exp(-self.config.ensemble_decay * ages)
            action = (weights[:, None] * preds).sum(0) / weights.sum()
        action = self.normalizer.denormalize(action[None], "action")[0]
        return np.clip(action, -1.0, 1.0).astype(np.float32)


def load_policy(path: str | os.PathLike, instruction: str = "", policy_id: str = "", open_loop: bool = False,
                **_) -> GeneralistPolicy:
    """The `rldg.policies` loader of format "generalist" (open_loop: see `GeneralistPolicy`)."""
    model, info = load_model(path)
    return GeneralistPolicy(model, info, instruction=instruction, open_loop=open_loop,
                            policy_id=policy_id or f"generalist:{Path(path).name}")
