"""What the consumers must produce from our datasets, computed from our own reader (helpers)."""

from __future__ import annotations

import numpy as np

from rldg_data.contract import spec
from rldg_data.io.reader import iter_episodes, open_dataset


def episodes_by_split(path) -> dict[str, list]:
    files = open_dataset(path)
    return {split: list(iter_episodes(files.path, split, decode_images=False)) for split in files.shards}


def unit_gripper(actions: np.ndarray) -> np.ndarray:
    """The standardize functions' mapping: last dimension +1 open / -1 closed -> [0, 1]."""
    out = np.asarray(actions, np.float64).copy()
    out[:, -1] = (out[:, -1] + 1.0) / 2.0
    return out


def tfds_val_count(n: int, val_percent: int = 5) -> int:
    """Episodes in TFDS's `train[95%:]` of n (rounding "closest", as tfds does for percent slices)."""
    return n - int(round((100 - val_percent) * n / 100))


def match(trajectories: list[np.ndarray], expected: dict[str, np.ndarray], atol: float = 1e-4) -> dict[int, str]:
    """One-to-one: consumer trajectory index -> episode id whose array it equals (AssertionError else)."""
    free = dict(expected)
    found = {}
    for i, traj in enumerate(trajectories):
        hit = next((eid for eid, want in free.items()
                    if want.shape == traj.shape and np.allclose(traj, want, atol=atol)), None)
        assert hit is not None, (f"trajectory {i} (length {len(traj)}) matches no remaining episode; "
                                 f"first row {traj[0]}; candidates of that length: "
                                 f"{[e for e, w in free.items() if w.shape == traj.shape]}")
        del free[hit]
        found[i] = hit
    return found


def transitions(episodes, num_transitions: int) -> np.ndarray:
    """The standardized actions as a statistics file counts them (every step, or every step but each
    episode's last, whichever its num_transitions says)."""
    full = [unit_gripper(ep.steps[spec.ACTION]) for ep in episodes]
    if sum(len(a) for a in full) != num_transitions:
        full = [a[:-1] for a in full]
    assert sum(len(a) for a in full) == num_transitions, "statistics count neither all steps nor all but last"
    return np.concatenate(full)


def moments(episodes, num_transitions: int) -> tuple[np.ndarray, np.ndarray]:
    """numpy mean and std of `transitions`."""
    values = transitions(episodes, num_transitions)
    return values.mean(0), values.std(0)
