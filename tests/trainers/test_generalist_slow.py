"""The RLDG premise on our generalist: expert data beats the same number of human-proxy episodes."""

from __future__ import annotations

import pytest

from tests.trainers.sim_data import demo_dataset
from trainers.generalist.config import GeneralistConfig
from trainers.generalist.evaluate import evaluate_generalist
from trainers.generalist.train import train_generalist


@pytest.mark.slow
def test_expert_data_beats_human_proxy_data_on_seen_variants(tmp_path):
    import robot_io

    task = "pick_place"
    seen = robot_io.variants(task, "seen")
    config = GeneralistConfig(steps=1500, seed=0)
    rates = {}
    for kind in ("expert", "human"):
        data = demo_dataset(tmp_path / "data", f"{kind}_demos", task, seen, kind, per_variant=8, seed=0)
        ckpt = train_generalist(data, tmp_path / f"{kind}_ckpt", config)
        results = evaluate_generalist(ckpt, task, "seen", episodes=8, seed=500,
                                      out=tmp_path / f"{kind}.json")
        rates[kind] = results["splits"]["seen"]["success_rate"]
    print("seen success rates:", rates)
    assert rates["expert"] > rates["human"]
