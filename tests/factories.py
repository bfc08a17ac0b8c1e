"""Makers of synthetic contract episodes for tests (deterministic from a seed)."""

from __future__ import annotations

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps

SOURCES_CYCLE = ("rl", "human", "scripted")


def make_episode(
    episode_id: str = "ep-0",
    length: int = 5,
    image_size: int = 16,
    state_dim: int = 4,
    action_dim: int = 4,
    seed: int = 0,
    source: str = "rl",
    variant: str = "vga",
    split: str = "seen",
    success: bool = True,
    wrist: bool = False,
    task: str = "insertion",
) -> Episode:
    rng = np.random.default_rng(seed)
    # Smooth frames (a gradient plus a coloured square) so JPEG keeps them close.
    base = np.linspace(0, 200, image_size, dtype=np.float32)
    images = np.empty((length, image_size, image_size, 3), np.uint8)
    for t in range(length):
        frame = np.stack([np.add.outer(base, base) / 2] * 3, -1)
        frame[t % image_size: t % image_size + 3, 2:5] = rng.integers(0, 255, 3)
        images[t] = frame.astype(np.uint8)
    actions = rng.uniform(-1, 1, (length, action_dim)).astype(np.float32)
    actions[-1] = 0.0
    rewards = np.zeros(length, np.float32)
    if success:
        rewards[-1] = 1.0
    steps = make_steps(
        images=images,
        states=rng.normal(size=(length, state_dim)).astype(np.float32),
        actions=actions,
        rewards=rewards,
        language_instruction=f"insert the {variant} connector",
        source=source,
        wrist_images=images[:, ::-1].copy() if wrist else None,
    )
    meta = EpisodeMetadata(
        episode_id=episode_id, task=task, variant=variant, split=split,
        policy_id=f"{source}-policy", success=success, episode_return=float(rewards.sum()),
        length=length, seed=seed, recipe_hash="",
    )
    return Episode(steps, meta)


def make_episodes(n: int, seed: int = 0, **kwargs) -> list[Episode]:
    variants = ("vga", "usb_c", "round")
    return [
        make_episode(f"ep-{seed}-{i}", length=3 + (i % 4), seed=seed * 1000 + i,
                     source=SOURCES_CYCLE[i % 3], variant=variants[i % 3],
                     split="seen" if i % 3 else "unseen", success=bool(i % 2), **kwargs)
        for i in range(n)
    ]
