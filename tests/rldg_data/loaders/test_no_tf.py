"""A torch user's training batch imports no TensorFlow (issue 15): records, Examples and frames are
read by the toolkit's own record layer. Run in a fresh interpreter, as a user's trainer would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

CHILD = """
import json, sys
import torch
from rldg_data.loaders import LoaderConfig, RLDSLoader, torch_dataset
loader = RLDSLoader(sys.argv[1:], LoaderConfig(batch_size=16, window=2, chunk=3, num_workers=2))
batches = torch.utils.data.DataLoader(torch_dataset(loader), batch_size=None)
batch = next(iter(batches))
model = torch.nn.Linear(batch["state"].shape[-1], batch["action"].shape[-1])
loss = ((model(batch["state"][:, -1]) - batch["action"][:, 0]) ** 2).mean()
loss.backward()
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "tensorflow_datasets", "apache_beam", "jax"})
print(json.dumps({"heavy": heavy, "image": list(batch["image"].shape), "loss": float(loss)}))
"""


def test_torch_training_batch_without_tensorflow(tmp_path):
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episodes

    a = write_dataset(make_episodes(5, seed=1, image_size=32), tmp_path, "a")
    b = write_dataset(make_episodes(4, seed=2, image_size=32), tmp_path, "b")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = subprocess.run([sys.executable, "-c", CHILD, str(a), str(b)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["heavy"] == [], f"a torch training batch imported {out['heavy']}"
    assert out["image"] == [16, 2, 32, 32, 3] and out["loss"] == out["loss"]  # not NaN
