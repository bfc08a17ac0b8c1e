"""Writes dummy_data/: two HIL-SERL pickles in HIL-SERL's transition layout (deterministic).

demos.pkl holds two complete episodes (3 and 4 transitions), buffer.pkl one episode of 5 with a
human intervention at its third step; observations have a 7-D state and two 8x8 cameras, as
HIL-SERL's record_demos.py and replay buffers write them. TRUST_PICKLE is the opt-in.

    .venv/bin/python builders/hil_serl/make_dummy_data.py
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent / "dummy_data"


def _obs(rng, t: int) -> dict:
    return {"state": rng.normal(size=(1, 7)).astype(np.float32),
            "wrist_1": np.full((1, 8, 8, 3), (40 * t) % 255, np.uint8),
            "side": np.full((1, 8, 8, 3), 255 - (40 * t) % 255, np.uint8)}


def transitions(lengths, seed: int, intervene_at=()) -> list[dict]:
    rng = np.random.default_rng(seed)
    out, t = [], 0
    for n in lengths:
        obs = _obs(rng, t)
        for i in range(n):
            nxt = _obs(rng, t + 1)
            action = rng.uniform(-0.5, 0.5, 7).astype(np.float32)
            action[-1] = (-1.0, 0.0, 1.0)[i % 3]
            done = i == n - 1
            infos = {"intervene_action": np.array([0.9, 0, 0, 0, 0, 0, -1.0], np.float32)} if len(out) in intervene_at else {}
            out.append({"observations": obs, "actions": action, "next_observations": nxt, "rewards": float(done),
                        "masks": 1.0 - float(done), "dones": done, "infos": infos})
            obs, t = nxt, t + 1
    return out


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name, data in (("demos.pkl", transitions([3, 4], seed=1)), ("buffer.pkl", transitions([5], seed=2, intervene_at=(2,)))):
        with open(HERE / name, "wb") as f:
            pickle.dump(data, f, protocol=4)
    (HERE / "TRUST_PICKLE").write_text("")
