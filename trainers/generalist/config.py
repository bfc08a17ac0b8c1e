"""`GeneralistConfig`: the model and training settings of a generalist run (stored in policy.json)."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from rldg_data.configs import dataclass_from_dict
from rldg_data.errors import ConfigError


ENCODERS = ("flatten", "spatial_softmax")


@dataclasses.dataclass(frozen=True)
class GeneralistConfig:
    """The model and training settings of a generalist run (stored in policy.json).

    image_size: frames are resized to this (pixels, square)
    window: observation history (frames per prediction)
    chunk: actions predicted per step
    wrist: also use the wrist camera
    channels: CNN widths (each conv halves the resolution)
    encoder: image encoder: "flatten" (strided convs, flattened map -> linear) or "spatial_softmax"
      (the last conv keeps its resolution; each channel becomes the expected image coordinates of
      its activation, a keypoint that localizes the connector and the port)
    shift: random-shift augmentation while training: pad frames by this many pixels and crop back
      at a random offset (0: off; see augment.py)
    buffer: windows in the loader's shuffle buffer each batch is drawn from (16,384 holds all of a
      small profile's dataset; with 1,024 a batch came from the ~8 episodes then in the buffer)
    embed: feature width
    hidden: width of the action head's hidden layer
    lang_buckets: hashed bag-of-words size (no downloaded language model)
    steps: training steps
    batch_size: windows per training batch
    learning_rate: AdamW learning rate
    weight_decay: AdamW weight decay
    normalization: how actions and proprio are normalized with the data's statistics
    ensemble: temporal ensembling of overlapping chunks when acting (else a chunk runs open loop)
    ensemble_decay: exponential weight of older chunks in the ensemble
    seed: seed of initialization, sampling and augmentation
    threads: torch intra-op threads; 1 by default, since the loader decodes in threads of its own
      and two OpenMP threads spin-wait each other on a loaded 2-core machine (BENCHMARKS.md,
      "Generalist training threads")
    """

    image_size: int = 64
    window: int = 2
    chunk: int = 4
    wrist: bool = False
    channels: tuple[int, ...] = (16, 32, 64, 64)
    encoder: str = "flatten"
    shift: int = 0
    buffer: int = 16384
    embed: int = 128
    hidden: int = 256
    lang_buckets: int = 512
    steps: int = 2000
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    normalization: str = "normal"
    ensemble: bool = True
    ensemble_decay: float = 0.1
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        for name in ("image_size", "window", "chunk", "embed", "hidden", "lang_buckets", "steps",
                     "batch_size", "threads", "buffer"):
            if int(getattr(self, name)) <= 0:
                raise ConfigError(f"GeneralistConfig.{name} must be positive, got {getattr(self, name)}")
        if int(self.shift) < 0 or int(self.shift) >= self.image_size // 2:
            raise ConfigError(f"GeneralistConfig.shift must be in [0, image_size/2), got {self.shift}")
        if self.encoder not in ENCODERS:
            raise ConfigError(f"GeneralistConfig.encoder {self.encoder!r} unknown; known: {', '.join(ENCODERS)}")
        if self.image_size % (2 ** self.downsampling):
            raise ConfigError(f"image_size {self.image_size} must be divisible by 2**{self.downsampling}")

    @property
    def downsampling(self) -> int:
        """How many convs halve the resolution (spatial softmax keeps the last one's)."""
        return len(self.channels) - (1 if self.encoder == "spatial_softmax" else 0)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "GeneralistConfig":
        return dataclass_from_dict(cls, values, "GeneralistConfig")
