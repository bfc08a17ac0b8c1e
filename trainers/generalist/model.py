"""The generalist network: shared CNN per frame + state MLP + hashed bag-of-words language,
fused by an MLP into a chunk of normalized actions. Small enough to train on a CPU in minutes."""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import torch
from torch import nn

from trainers.generalist.config import GeneralistConfig


def hash_tokens(instructions: Sequence[str], buckets: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Instructions -> (token bucket ids, offsets) for `nn.EmbeddingBag` (crc32: stable across runs)."""
    ids, offsets = [], []
    for text in instructions:
        offsets.append(len(ids))
        words = str(text).lower().replace("?", " ").replace(".", " ").split() or ["<empty>"]
        ids.extend(zlib.crc32(w.encode("utf-8")) % buckets for w in words)
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)


class SpatialSoftmax(nn.Module):
    """[B, C, H, W] -> [B, 2C]: per channel, the softmax-weighted mean (x, y) in [-1, 1] (Levine
    et al. 2016, "deep spatial autoencoders"), with a learned temperature."""

    def __init__(self, side: int) -> None:
        super().__init__()
        coords = torch.linspace(-1.0, 1.0, side)
        self.register_buffer("xs", coords.repeat(side), persistent=False)
        self.register_buffer("ys", coords.repeat_interleave(side), persistent=False)
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        attention = torch.softmax(x.reshape(b, c, -1) / self.log_temperature.exp(), dim=-1)
        return torch.cat([attention @ self.xs, attention @ self.ys], dim=1)


class GeneralistNet(nn.Module):
    """(images [B, W, H, W, 3] uint8, state [B, W, S], instructions) -> actions [B, chunk, A]."""

    def __init__(self, config: GeneralistConfig, state_dim: int, action_dim: int) -> None:
        super().__init__()
        self.config, self.state_dim, self.action_dim = config, state_dim, action_dim
        layers, c_in = [], 3 * (2 if config.wrist else 1)
        for i, c in enumerate(config.channels):
            stride = 2 if i < config.downsampling else 1
            layers += [nn.Conv2d(c_in, c, 3, stride=stride, padding=1), nn.GroupNorm(min(8, c), c), nn.ReLU()]
            c_in = c
        side = config.image_size // 2 ** config.downsampling
        if config.encoder == "spatial_softmax":
            layers[-1:] = [SpatialSoftmax(side)]  # keypoints from the normalized conv map
            self.encoder = nn.Sequential(*layers)
            self.image_proj = nn.Linear(2 * c_in, config.embed)
        else:
            self.encoder = nn.Sequential(*layers, nn.Flatten())
            self.image_proj = nn.Linear(c_in * side * side, config.embed)
        self.state_proj = nn.Linear(state_dim * config.window, config.embed)
        self.language = nn.EmbeddingBag(config.lang_buckets, config.embed, mode="mean")
        fused = config.embed * (config.window + 2)
        self.head = nn.Sequential(nn.Linear(fused, config.hidden), nn.ReLU(),
                                  nn.Linear(config.hidden, config.hidden), nn.ReLU(),
                                  nn.Linear(config.hidden, config.chunk * action_dim))

    def forward(self, images: torch.Tensor, state: torch.Tensor, tokens: torch.Tensor,
                offsets: torch.Tensor) -> torch.Tensor:
        b, w = images.shape[:2]
        x = images.reshape(b * w, *images.shape[2:]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        frames = self.image_proj(self.encoder(x)).reshape(b, w * self.config.embed)
        features = torch.cat([frames, self.state_proj(state.reshape(b, -1)),
                              self.language(tokens, offsets)], dim=1)
        return self.head(torch.relu(features)).reshape(b, self.config.chunk, self.action_dim)


def images_of(batch: dict, wrist: bool) -> np.ndarray:
    """The image input of a batch: main camera, with the wrist camera stacked on channels."""
    if wrist:
        return np.concatenate([batch["image"], batch["wrist_image"]], axis=-1)
    return batch["image"]
