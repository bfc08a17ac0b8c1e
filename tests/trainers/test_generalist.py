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
    assert row["ci95"][0] <= row["success_rate"] <= row["ci95"][1] and len(row["successful_steps"]) == row["successes"]
    assert "seen" in results["splits"] and "(n=2)" in out.with_suffix(".md").read_text()


def test_evaluation_out_never_replaces_a_file_it_did_not_write(tiny, tmp_path, capsys):
    _, ckpt = tiny
    args = ["generalist", "eval", "--checkpoint", str(ckpt), "--task", "pick_place", "--episodes", "1",
            "--max-steps", "5"]
    theirs = tmp_path / "theirs.json"
    theirs.write_text("my notes")
    assert main([*args, "--out", str(theirs), "--force"]) == 2
    assert "not written by `rldg generalist eval`" in capsys.readouterr().err
    assert theirs.read_text() == "my notes"
    table = tmp_path / "r.md"  # the table beside a new JSON is checked too
    table.write_text("my table")
    assert main([*args, "--out", str(tmp_path / "r.json")]) == 2
    assert table.read_text() == "my table" and not (tmp_path / "r.json").exists()
    out = tmp_path / "results.json"
    assert main([*args, "--out", str(out)]) == 0
    assert main([*args, "--out", str(out)]) == 2 and "pass --force" in capsys.readouterr().err
    assert main([*args, "--out", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["task"] == "pick_place" and out.with_suffix(".md").is_file()


def test_evaluation_of_a_multi_stage_task_reports_each_stage_finished(tiny, tmp_path):
    _, ckpt = tiny
    out = tmp_path / "results.json"
    assert main(["generalist", "eval", "--checkpoint", str(ckpt), "--task", "assembly", "--variants", "all",
                 "--episodes", "2", "--seen-episodes", "3", "--max-steps", "10", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["splits"]["seen"]["episodes"] == 3 and results["splits"]["unseen"]["episodes"] == 2
    for row in [*results["variants"].values(), *results["splits"].values()]:
        stages = {name: row["stages"][name] for name in row["stage_names"]}
        assert list(stages) == ["grasped", "transported", "inserted"] == row["stage_names"]
        assert all(s["episodes"] == row["episodes"] for s in stages.values())
        counts = [s["successes"] for s in stages.values()]
        assert counts == sorted(counts, reverse=True) and counts[-1] == row["successes"]  # latched stages
    assert "Stages finished" in out.with_suffix(".md").read_text()


def test_seen_episodes_apply_to_seen_variants_only_and_not_to_octo_policies(capsys):
    import robot_io
    from rldg_data.errors import RldgError
    from trainers.generalist.evaluate import episodes_per_variant

    seen, unseen = robot_io.variants("insertion", "seen")[0], robot_io.variants("insertion", "unseen")[0]
    assert episodes_per_variant("insertion", [seen, unseen], 40, 100) == {seen: 100, unseen: 40}
    assert episodes_per_variant("insertion", [seen, unseen], 40) == {seen: 40, unseen: 40}
    with pytest.raises(RldgError, match="positive"):
        episodes_per_variant("insertion", [seen], 40, 0)
    assert main(["generalist", "eval", "--policy", "octo:/nowhere", "--task", "insertion",
                 "--seen-episodes", "5"]) == 2
    captured = capsys.readouterr()
    assert "--seen-episodes is for our generalist" in captured.err


def test_cli_train_writes_a_checkpoint(tiny, tmp_path):
    dataset, _ = tiny
    out = tmp_path / "cli_ckpt"
    assert main(["generalist", "train", "--dataset", f"{dataset},{dataset}", "--weights", "1,1",
                 "--out", str(out), "--steps", "3", "--image-size", "16", "--batch-size", "8"]) == 0
    assert (out / "weights.pt").is_file() and json.loads((out / "policy.json").read_text())["weights"] == [1, 1]


def test_spatial_softmax_encoder_gives_keypoints_and_trains(tmp_path, tiny):
    import torch

    from trainers.generalist.model import GeneralistNet, SpatialSoftmax, hash_tokens

    keypoints = SpatialSoftmax(4)(torch.zeros(2, 3, 4, 4))
    assert keypoints.shape == (2, 6) and torch.allclose(keypoints, torch.zeros(2, 6), atol=1e-6)  # uniform: centre
    peak = torch.zeros(1, 1, 4, 4)
    peak[0, 0, 3, 0] = 50.0  # bottom-left
    assert torch.allclose(SpatialSoftmax(4)(peak), torch.tensor([[-1.0, 1.0]]), atol=1e-3)
    config = GeneralistConfig(**{**TINY.to_dict(), "encoder": "spatial_softmax", "steps": 2})
    net = GeneralistNet(config, 4, 4)
    tokens, offsets = hash_tokens(["x"], 8)
    out = net(torch.zeros(1, config.window, 16, 16, 3, dtype=torch.uint8), torch.zeros(1, config.window, 4),
              tokens % config.lang_buckets, offsets)
    assert out.shape == (1, config.chunk, 4)
    dataset, _ = tiny
    ckpt = train_generalist(dataset, tmp_path / "ss", config)
    assert json.loads((ckpt / "policy.json").read_text())["config"]["encoder"] == "spatial_softmax"
    with pytest.raises(Exception, match="encoder"):
        GeneralistConfig(encoder="vit")


def test_open_loop_policy_runs_each_chunk_to_its_end(tiny):
    from trainers.generalist.checkpoint import load_policy as load_generalist

    _, ckpt = tiny
    policy = load_generalist(ckpt, open_loop=True)
    calls = []
    predict = policy._predict
    policy._predict = lambda obs: calls.append(1) or predict(obs)
    obs = {"image": np.full((64, 64, 3), 90, np.uint8), "state": np.zeros(4, np.float32)}
    for _ in range(2 * policy.config.chunk):
        policy.act(obs)
    assert len(calls) == 2  # one decision per chunk (20 Hz at chunk 4), not one per step


def test_random_shift_moves_each_sample_and_keeps_its_window_aligned():
    from trainers.generalist.augment import random_shift

    rng = np.random.default_rng(0)
    frame = np.zeros((1, 1, 16, 16, 3), np.uint8)
    frame[..., 8, 8, :] = 255  # one bright pixel
    images = np.repeat(np.repeat(frame, 2, axis=1), 32, axis=0)  # 32 samples, window of 2 equal frames
    shifted = random_shift(images, 3, rng)
    assert shifted.shape == images.shape and shifted.dtype == np.uint8
    where = [tuple(np.argwhere(s[0, ..., 0] == 255)[0]) for s in shifted]
    assert len(set(where)) > 1  # samples move independently
    assert all(max(abs(y - 8), abs(x - 8)) <= 3 for y, x in where)
    np.testing.assert_array_equal(shifted[:, 0], shifted[:, 1])  # one offset per sample, all frames
    assert random_shift(images, 0, rng) is images


def test_shift_is_checked_and_recorded_in_the_checkpoint(tiny, tmp_path):
    from rldg_data.errors import RldgError

    with pytest.raises(RldgError, match="shift"):
        GeneralistConfig(image_size=16, shift=8)
    dataset, _ = tiny
    ckpt = train_generalist(dataset, tmp_path / "shifted", GeneralistConfig(**{**TINY.to_dict(), "shift": 2, "steps": 5}))
    assert json.loads((ckpt / "policy.json").read_text())["config"]["shift"] == 2


@pytest.mark.parametrize("episodes", [1, 2, 7, 20])
def test_evaluation_parts_cover_every_episode_once_in_order(episodes):
    from trainers.generalist.evaluate import _parts

    covered = [first + i for first, count in _parts(episodes) for i in range(count)]
    assert covered == list(range(episodes))
