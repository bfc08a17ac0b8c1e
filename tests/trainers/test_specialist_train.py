"""`rldg specialist train` end to end on a robot_io task: a short run that must learn and round-trip."""

from __future__ import annotations

import json
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np
import pytest

from rldg_data.cli import main as rldg
from rldg_data.policy import load_policy as load_any_policy
from trainers.specialist.checkpoint import load_policy

robot_io = pytest.importorskip("robot_io")


def test_short_training_run_learns_and_its_checkpoint_acts_identically_after_reload(tmp_path):
    out = tmp_path / "ckpt"
    status = rldg(["specialist", "train", "--task", "insertion", "--variant", "vga", "--out", str(out),
                   "--demos", "2", "--demonstrator", "expert", "--max-env-steps", "400",
                   "--start-steps", "100", "--eval-every", "100", "--eval-episodes", "1",
                   "--hidden", "32", "32", "--batch-size", "64", "--utd", "2", "--update-every", "5",
                   "--seed", "3"])
    assert status == 0
    curve = json.loads((out / "curve.json").read_text())
    assert [row["env_steps"] // 100 for row in curve] == [1, 2, 3, 4]  # 4-step decisions may overshoot
    assert curve[-1]["bc_loss"] < 0.7 * curve[0]["bc_loss"]  # it imitates the demos more and more
    meta = json.loads((out / "policy.json").read_text())
    assert meta["format"] == "specialist" and meta["obs_dim"] == 17 and meta["config"]["sac"]["utd_ratio"] == 2
    assert (out / "curve.csv").read_text().splitlines()[0].startswith("actor_loss,")

    env = robot_io.make("insertion", "vga", render=False, seed=0)
    first = load_policy(out)
    again = load_any_policy(out)  # through the rldg.policies registry, as collectors load it
    assert again.policy_id == first.policy_id and first.policy_id.startswith("specialist/insertion/vga/")
    obs = env.reset(seed=7)
    for _ in range(20):
        a, b = first.act(obs), again.act(obs)
        assert a.dtype == np.float32 and a.shape == (4,) and np.all(np.abs(a) <= 1)
        np.testing.assert_array_equal(a, b)
        obs, *_ = env.step(a)
    env.close()
