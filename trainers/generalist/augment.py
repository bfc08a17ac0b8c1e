"""Random-shift image augmentation for behaviour cloning (training only, never when acting).

Each sample's frames are padded by `pad` pixels (edge values) and cropped back to their size at a
random offset, the same offset for every frame of the sample's history window, so motion between
frames is kept. With a few dozen demonstrations a CNN otherwise memorizes pixel positions instead
of learning where the peg and the port are (DrQ, Kostrikov et al. 2020; Diffusion Policy's random
crop). Pure numpy: no TensorFlow, no torch.
"""

from __future__ import annotations

import numpy as np

from rldg_data.errors import ConfigError


def random_shift(images: np.ndarray, pad: int, rng: np.random.Generator) -> np.ndarray:
    """images [B, W, H, W', C] (uint8) -> the same shape, each sample shifted by up to ±`pad` px."""
    if pad <= 0:
        return images
    if images.ndim != 5:
        raise ConfigError(f"random_shift expects [batch, window, height, width, channels], got {images.shape}")
    b, _, h, w, _ = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    offsets = rng.integers(0, 2 * pad + 1, size=(b, 2))
    out = np.empty_like(images)
    for i, (dy, dx) in enumerate(offsets):
        out[i] = padded[i, :, dy:dy + h, dx:dx + w]
    return out
