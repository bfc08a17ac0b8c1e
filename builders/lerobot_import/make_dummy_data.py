"""Writes dummy_data/: a LeRobot v3.0 dataset folder (meta/, data/ parquet, videos/ h264 mp4) of
3 toy episodes (16x16 frames, 4-D state and action, 10 fps; 2 in train, 1 in val), written by
`rldg export lerobot` (`rldg_data.exports.lerobot`) from a contract dataset made here.

    .venv/bin/python builders/lerobot_import/make_dummy_data.py
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.exports.lerobot import ExportConfig, export_lerobot
from rldg_data.io.writer import write_dataset

HERE = Path(__file__).parent / "dummy_data"


def episode(i: int) -> Episode:
    rng = np.random.default_rng(i)
    n = 5 + i
    actions = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
    actions[-1] = 0
    rewards = np.zeros(n, np.float32)
    rewards[-1] = float(i % 2 == 0)
    images = np.tile(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None, None], (n, 1, 16, 3))
    steps = make_steps(images=images, states=rng.normal(size=(n, 4)).astype(np.float32), actions=actions,
                       rewards=rewards, language_instruction="insert the vga connector", source=("rl", "human")[i % 2])
    return Episode(steps, EpisodeMetadata(f"ep-{i}", "insertion", "vga", "seen", "toy-policy", bool(i % 2 == 0),
                                          float(rewards.sum()), n, 100 + i))


if __name__ == "__main__":
    episodes = [episode(i) for i in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        data_spec = dataclasses.replace(episodes[0].spec(), image_encoding="png")
        src = write_dataset({"train": episodes[:2], "val": episodes[2:]}, tmp, "toy", data_spec)
        shutil.rmtree(HERE, ignore_errors=True)
        export_lerobot(src, HERE, ExportConfig(fps=10))
