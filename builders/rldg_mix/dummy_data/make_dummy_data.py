"""Regenerates the two tiny source datasets the builder test mixes (deterministic).

    .venv/bin/python builders/rldg_mix/dummy_data/make_dummy_data.py
"""

from pathlib import Path

import numpy as np

from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.io.writer import write_dataset

HERE = Path(__file__).parent


def episodes(source: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    for i in range(n):
        t = 4 + i % 3
        actions = rng.uniform(-1, 1, (t, 4)).astype(np.float32)
        actions[-1] = 0
        success = bool(i % 4)
        rewards = np.zeros(t, np.float32)
        rewards[-1] = float(success)
        images = np.tile(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None, None], (t, 1, 16, 3))
        variant = ("vga", "usb_c")[i % 2]
        steps = make_steps(images=images, states=rng.normal(size=(t, 4)).astype(np.float32), actions=actions,
                           rewards=rewards, language_instruction=f"insert the {variant} connector", source=source)
        yield Episode(steps, EpisodeMetadata(f"{source}-{seed}-{i}", "insertion", variant, "seen",
                                             f"{source}-policy", success, float(rewards.sum()), t, seed))


if __name__ == "__main__":
    write_dataset(episodes("rl", 12, 1), HERE, "rl_demo", overwrite=True)
    write_dataset(episodes("human", 10, 2), HERE, "human_demo", overwrite=True)
