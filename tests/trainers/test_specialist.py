"""RL specialist: the SAC update learns, checkpoints round-trip, collectors can load them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.errors import ContractError, RldgError
from trainers.specialist.checkpoint import NumpyActor, load_policy, save_checkpoint
from trainers.specialist.config import ConfigError, SACConfig, TrainConfig, train_from_dict
from trainers.specialist.demos import load_demos
from trainers.specialist.replay import ReplayBuffer, episode_transitions, sample_rounds

OBS_DIM, ACTION_DIM = 6, 4


def demo_buffer(n=512, seed=0):
    """Demonstrations of a fixed linear policy, so there is something to imitate."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(OBS_DIM, ACTION_DIM)) * 0.3
    buf = ReplayBuffer(OBS_DIM, ACTION_DIM, n)
    for _ in range(n):
        obs = rng.normal(size=OBS_DIM)
        buf.add(obs, np.tanh(obs @ w), float(rng.random() < 0.1), rng.normal(size=OBS_DIM), False)
    return buf


def test_numpy_actor_matches_the_flax_actor():
    import jax

    from trainers.specialist.networks import Actor
    from trainers.specialist.sac import flatten_params

    actor = Actor((16, 8), ACTION_DIM)
    obs = np.random.default_rng(0).normal(size=(5, OBS_DIM)).astype(np.float32)
    params = jax.jit(actor.init)(jax.random.PRNGKey(3), obs)["params"]
    mean, log_std = jax.jit(actor.apply)({"params": params}, obs)
    np_mean, np_log_std = NumpyActor(flatten_params(params)).forward(obs)
    np.testing.assert_allclose(np_mean, mean, atol=1e-5)
    np.testing.assert_allclose(np_log_std, log_std, atol=1e-5)


def test_demo_fraction_and_reward_relabeling():
    online, demos = demo_buffer(64, 1), demo_buffer(64, 2)
    batch = sample_rounds(online, demos, np.random.default_rng(0), rounds=2, utd=3, batch_size=10,
                          demo_fraction=0.5)
    assert batch["obs"].shape == (2, 3, 10, OBS_DIM)
    assert batch["is_demo"].sum(-1).tolist() == [[5, 5, 5]] * 2
    obs, actions = np.zeros((4, 2)), np.ones((4, 1))
    one = episode_transitions(obs, actions, success=True, step_cost=0.01, discount=0.5)
    assert one["reward"].tolist() == pytest.approx([-0.01, -0.01, 0.99])
    assert one["done"].tolist() == [0, 0, 1]
    assert one["mc_return"].tolist() == pytest.approx([-0.01 - 0.005 + 0.2475, -0.01 + 0.495, 0.99])
    assert not episode_transitions(obs, actions, success=False)["done"].any()


def test_transitions_at_a_lower_control_rate():
    """action_repeat 2: one window per start step, mean action, next obs 2 steps on, returns chained."""
    obs = np.arange(6, dtype=np.float32)[:, None]          # 5 steps, obs = step index
    actions = np.array([[0.0], [1.0], [1.0], [0.5], [0.0], [0.0]], np.float32)  # last row unused
    moving = np.array([False, True, True, True, True])
    w = episode_transitions(obs, actions, success=True, repeat=2, discount=0.5, bc_steps=moving)
    assert w["obs"][:, 0].tolist() == [0, 1, 2, 3, 4]
    assert w["next_obs"][:, 0].tolist() == [2, 3, 4, 5, 5]
    assert w["action"][:, 0].tolist() == pytest.approx([0.5, 1.0, 0.75, 0.25, 0.0])
    assert w["done"].tolist() == [0, 0, 0, 1, 1] and w["reward"].tolist() == [0, 0, 0, 1, 1]
    assert w["mc_return"].tolist() == pytest.approx([0.25, 0.5, 0.5, 1.0, 1.0])
    assert w["bc"].tolist() == [0, 1, 1, 1, 1]  # the window that covers a pause is not imitated
    buffer = ReplayBuffer(1, 1, 8)
    buffer.add_arrays(w)
    assert len(buffer) == 5 and buffer.mc_return[:5].tolist() == pytest.approx(w["mc_return"].tolist())


def test_config_rejects_bad_values_and_unknown_keys():
    with pytest.raises(ConfigError, match="utd_ratio"):
        SACConfig(utd_ratio=0)
    with pytest.raises(ConfigError, match="train config: unknown key 'lr'"):
        train_from_dict({"task": "insertion", "variant": "vga", "out": "x", "lr": 1})
    config = TrainConfig("insertion", "vga", "x", sac=SACConfig(hidden=(8,)))
    assert train_from_dict(json.loads(json.dumps(config.to_dict()))) == config


def _tiny_params():
    return {"trunk/dense_0/kernel": np.ones((3, 2)), "trunk/dense_0/bias": np.zeros(2),
            "trunk/norm_0/scale": np.ones(2), "trunk/norm_0/bias": np.zeros(2),
            "mean/kernel": np.ones((2, 1)), "mean/bias": np.zeros(1),
            "log_std/kernel": np.ones((2, 1)), "log_std/bias": np.zeros(1)}


def test_a_specialist_trained_at_a_lower_rate_holds_each_action(tmp_path):
    """action_repeat 3 in its config: a fresh decision every 3rd call, until reset; hold=False
    decides on every call (labelling single states)."""
    params = _tiny_params()
    params["trunk/dense_0/kernel"] = np.random.default_rng(0).normal(size=(3, 2))  # obs-dependent
    params["mean/kernel"] = np.array([[1.0], [-0.5]])
    folder = save_checkpoint(tmp_path / "ckpt", params, {"task": "t", "variant": "v",
                                                         "config": {"action_repeat": 3}})
    policy = load_policy(folder)
    assert policy.action_repeat == 3
    obs = [{"privileged_state": np.array([np.sin(v), np.cos(v), v / 7], np.float32)} for v in range(1, 8)]
    fresh = [load_policy(folder, hold=False).act(o)[0] for o in obs]
    assert len(set(np.round(fresh, 6))) > 1
    assert [policy.act(o)[0] for o in obs] == [fresh[i] for i in (0, 0, 0, 3, 3, 3, 6)]
    policy.reset()
    assert policy.act(obs[4])[0] == fresh[4]
    old = save_checkpoint(tmp_path / "old", params, {"task": "t", "variant": "v"})  # before the option
    assert load_policy(old).action_repeat == 1


def test_offset_features_are_what_the_policy_must_drive_to_zero():
    from trainers.specialist.sac import OFFSET_SCALE, offset_transform

    obs = np.zeros(17, np.float32)
    obs[0:3], obs[3], obs[4:7] = [0.1, 0.6, 0.2], 0.8, [0.15, 0.6, 0.01]   # hand, gripper, grasp point
    obs[11:14], obs[14:17] = [-0.3, 0.5, 0.1], [-0.2, 0.55, 0.1]          # hole, peg tip
    matrix, shift = offset_transform(17)
    features = obs @ matrix + shift
    expected = [-0.05, 0.0, 0.19, 0.1, 0.05, 0.0, 0.2, 0.01]
    np.testing.assert_allclose(features[:8], np.array(expected) * OFFSET_SCALE, atol=1e-5)
    assert features[8] == pytest.approx(0.8)
    moved = obs.copy()
    moved[[0, 4, 11, 14]] += 0.2  # the whole scene shifted along x: same features
    np.testing.assert_allclose(moved @ matrix, features, atol=1e-5)
    with pytest.raises(ConfigError, match="17-d"):
        offset_transform(6)


def test_successful_online_episodes_join_the_bc_term():
    buffer = ReplayBuffer(1, 1, 8)
    for reward, done in [(0, 0), (0, 0), (1, 1)]:
        buffer.add([0], [0.5], reward, [0], done, bc=False)
    buffer.finish_episode(0.9, imitate=True)
    for _ in range(2):
        buffer.add([0], [0.5], 0, [0], False, bc=False)
    buffer.finish_episode(0.9, imitate=False)  # a failure stays out of the BC term
    assert buffer.bc[:5].tolist() == [1, 1, 1, 0, 0]
    batch = sample_rounds(buffer, None, np.random.default_rng(0), rounds=1, utd=1, batch_size=64,
                          demo_fraction=0.5)
    assert not batch["is_demo"].any()
    np.testing.assert_array_equal(batch["bc_mask"] > 0, batch["mc_return"] > 0.5)


def test_checkpoint_refuses_tampered_weights(tmp_path):
    params = {"trunk/dense_0/kernel": np.ones((3, 2)), "trunk/dense_0/bias": np.zeros(2),
              "trunk/norm_0/scale": np.ones(2), "trunk/norm_0/bias": np.zeros(2),
              "mean/kernel": np.ones((2, 1)), "mean/bias": np.zeros(1),
              "log_std/kernel": np.ones((2, 1)), "log_std/bias": np.zeros(1)}
    folder = save_checkpoint(tmp_path / "ckpt", params, {"task": "t", "variant": "v"})
    assert load_policy(folder).act({"privileged_state": np.ones(3, np.float32)}).shape == (1,)
    with pytest.raises(RldgError, match="privileged_state"):
        load_policy(folder).act({"state": np.ones(4, np.float32)})
    np.savez(folder / "actor.npz", **{**params, "mean/bias": np.ones(1)})
    with pytest.raises(RldgError, match="do not match the hash"):
        load_policy(folder)
    np.savez(folder / "actor.npz", **{**params, "mean/bias": np.array([object()], dtype=object)})
    with pytest.raises(RldgError, match="cannot read"):  # allow_pickle=False refuses object arrays
        load_policy(folder)


def _privileged_episode(eid, n, success, with_privileged=True):
    rng = np.random.default_rng(len(eid))
    steps = make_steps(images=np.zeros((n, 8, 8, 3), np.uint8), states=rng.normal(size=(n, 4)),
                       actions=np.clip(rng.normal(size=(n, 4)), -1, 1), language_instruction="x", source="human",
                       privileged_states=rng.normal(size=(n, 5)) if with_privileged else None)
    return Episode(steps, EpisodeMetadata(eid, task="insertion", variant="vga", success=success, length=n))


def test_demos_load_from_a_contract_dataset(tmp_path):
    from rldg_data.io.writer import write_dataset

    episodes = [_privileged_episode("a", 6, True), _privileged_episode("b", 4, False),
                _privileged_episode("c", 5, True)]
    path = write_dataset(episodes, tmp_path, "demos")
    demos = load_demos(path, "insertion", "vga")
    assert [d.episode_id for d in demos] == ["a", "c"]
    np.testing.assert_allclose(demos[0].obs, episodes[0].steps[spec.PRIVILEGED_STATE])
    plain = write_dataset([_privileged_episode("d", 4, True, with_privileged=False)], tmp_path, "plain")
    with pytest.raises(ContractError, match="privileged"):
        load_demos(plain, "insertion", "vga")


def test_eval_out_never_replaces_a_file_it_did_not_write(tmp_path, capsys):
    from pathlib import Path as P

    from rldg_data.cli import main

    ckpt = str(P(__file__).resolve().parents[2] / "trainers" / "demo" / "specialists" / "insertion-vga")
    theirs = tmp_path / "notes.json"
    theirs.write_text('{"mine": 1}')
    assert main(["specialist", "eval", ckpt, "--episodes", "1", "--out", str(theirs), "--force"]) == 2
    assert "not written by `rldg specialist eval`" in capsys.readouterr().err
    assert theirs.read_text() == '{"mine": 1}'
    out = tmp_path / "eval.json"
    assert main(["specialist", "eval", ckpt, "--episodes", "1", "--out", str(out)]) == 0
    first = json.loads(out.read_text())
    assert first["variant"] == "vga" and first["trained_on"] == "vga"
    assert main(["specialist", "eval", ckpt, "--episodes", "1", "--out", str(out)]) == 2  # its own: --force
    assert "pass --force" in capsys.readouterr().err
    assert main(["specialist", "eval", ckpt, "--episodes", "1", "--out", str(out), "--force"]) == 0
    assert json.loads(out.read_text()) == first
