"""trainers.generalist: training, checkpoints as policies, evaluation in the simulated suite, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rldg_data.cli import main
from rldg_data.policy import Policy, load_policy
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes
from trainers.generalist.config import GeneralistConfig
from trainers.generalist.train import train_generalist

TINY = GeneralistConfig(image_size=16, channels=(8, 16), embed=32, hidden=64, steps=60, batch_size=16,
                        seed=3, threads=1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    dataset = write_dataset(make_episodes(4, seed=5, image_size=16), root / "data", "gen_tiny")
    return dataset, train_generalist(dataset, root / "ckpt", TINY)


def test_training_fits_the_data_and_is_seeded(tiny, tmp_path):
    import torch

    dataset, ckpt = tiny
    info = json.loads((ckpt / "policy.json").read_text())
    assert info["format"] == "generalist" and info["config"]["chunk"] == 4
    first = train_generalist(dataset, tmp_path / "one_step", GeneralistConfig(**{**TINY.to_dict(), "steps": 1}))
    assert info["final_loss"] < json.loads((first / "policy.json").read_text())["final_loss"]
    again = train_generalist(dataset, tmp_path / "again", TINY)
    a = torch.load(ckpt / "weights.pt", weights_only=True)
    b = torch.load(again / "weights.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_loads_as_a_policy_through_the_registry(tiny):
    _, ckpt = tiny
    policy = load_policy(ckpt, instruction="insert the vga connector")
    assert isinstance(policy, Policy)
    obs = {"image": np.full((64, 64, 3), 90, np.uint8), "state": np.zeros(4, np.float32)}
    policy.reset(0)
    first = [policy.act(obs) for _ in range(3)]
    policy.reset(0)
    again = [policy.act(obs) for _ in range(3)]
    assert first[0].shape == (4,) and first[0].dtype == np.float32
    assert np.abs(np.stack(first)).max() <= 1.0
    np.testing.assert_array_equal(np.stack(first), np.stack(again))


def test_evaluation_in_the_simulated_suite_writes_json_and_table(tiny, tmp_path):
    _, ckpt = tiny
    import robot_io
    variant = robot_io.variants("pick_place", "seen")[0]
    out = tmp_path / "results.json"
    assert main(["generalist", "eval", "--checkpoint", str(ckpt), "--task", "pick_place",
                 "--variants", variant, "--episodes", "2", "--max-steps", "15", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    row = results["variants"][variant]
    assert row["episodes"] == 2 and 0 <= row["success_rate"] <= 1 and row["split"] == "seen"
    assert "seen" in results["splits"] and "| variant |" in out.with_suffix(".md").read_text()


def test_cli_train_writes_a_checkpoint(tiny, tmp_path):
    dataset, _ = tiny
    out = tmp_path / "cli_ckpt"
    assert main(["generalist", "train", "--dataset", f"{dataset},{dataset}", "--weights", "1,1",
                 "--out", str(out), "--steps", "3", "--image-size", "16", "--batch-size", "8"]) == 0
    assert (out / "weights.pt").is_file() and json.loads((out / "policy.json").read_text())["weights"] == [1, 1]
