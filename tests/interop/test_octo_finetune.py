"""Octo's own `scripts/finetune.py` (octo-models/octo 241fb35, in .venv-interop) fine-tunes on an
RLDG mix through `rldg finetune octo --octo-python`, from a small local checkpoint made with Octo's
own API (tests/interop/octo_tiny_checkpoint.py: no hub is reachable here).

The mix is demo-shaped (64x64 primary and wrist cameras, 4-D state and actions, rl + human
sources, a val split) and made as users make one: the project's writer, then `rldg mix`.
Checked: exit 0, the checkpoint Octo saves at the last step, our dataset_statistics.json inside it,
our standardize function's effect on the actions Octo trained on (gripper in [0, 1]), the loss
finetune.py logs (falling over 50 steps: slow test), and that each export defect of issue 17 put
back into the config makes Octo's script fail.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.interop.conftest import BIN, REPO, run

SIZES = ["--primary-size", "64", "--wrist-size", "32"]


def _side_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return dict(env, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")


@pytest.fixture(scope="module")
def octo_mix(demo_mix) -> Path:
    """16 episodes of 20-24 steps, 64x64 frames with a wrist camera, mixed by `rldg mix` (conftest)."""
    return demo_mix


@pytest.fixture(scope="module")
def tiny_checkpoint(side_python, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("octo_tiny") / "checkpoint"
    res = subprocess.run([str(side_python), str(REPO / "tests" / "interop" / "octo_tiny_checkpoint.py"), str(out)],
                         env=_side_env(), capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "config.json").is_file() and (out / "0").is_dir()
    return out


def finetune(dataset: Path, out: Path, checkpoint: Path, side_python: Path, steps: int,
             batch_size: int = 8, timeout: int = 1800, fast_compile: bool = False) -> subprocess.CompletedProcess:
    """`rldg finetune octo` as a user runs it (wandb disabled: no network). fast_compile: JAX's
    own switch for less XLA optimization (compiling dominates a 2-step run on 2 cores)."""
    extra = {"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"} if fast_compile else {}
    cmd = [BIN / "rldg", "finetune", "octo", dataset, "--out", out, "--steps", str(steps),
           "--batch-size", str(batch_size), "--pretrained", checkpoint, "--octo-python", side_python,
           "--wandb-mode", "disabled", *SIZES]
    return subprocess.run([str(c) for c in cmd], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", **extra))


def losses(export: Path) -> list[tuple[int, float]]:
    from trainers.octo_launch import read_metrics

    return [(m["step"], m["training/loss"]) for m in read_metrics(export / "runs" / "metrics.jsonl")
            if "training/loss" in m]


def saved_run(export: Path) -> Path:
    from trainers.octo_launch import checkpoints

    found = checkpoints(export)
    assert len(found) == 1, found
    return found[0]


def trained_batch_summary(side_python: Path, run_dir: Path) -> dict:
    """What Octo trained on, read back from the checkpoint with Octo's own loader (in its Python)."""
    code = ("import json, sys, numpy as np\n"
            "from octo.model.octo_model import OctoModel\n"
            "m = OctoModel.load_pretrained(sys.argv[1])\n"
            "a = np.asarray(m.example_batch['action'])\n"
            "s = m.dataset_statistics['action']\n"
            "print(json.dumps({'gripper': a[..., -1].ravel().tolist(), 'mean': np.asarray(s['mean']).tolist(),"
            " 'std': np.asarray(s['std']).tolist(), 'mask': np.asarray(s['mask']).tolist(),"
            " 'action_dim': m.config['model']['heads']['action']['kwargs']['action_dim']}))\n")
    res = subprocess.run([str(side_python), "-c", code, str(run_dir)], env=_side_env(), capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def check_run(res: subprocess.CompletedProcess, export: Path, side_python: Path, steps: int) -> Path:
    assert res.returncode == 0, f"{res.stdout[-3000:]}\n{res.stderr[-6000:]}"
    run_dir = saved_run(export)
    assert (run_dir / str(steps)).is_dir(), sorted(p.name for p in run_dir.iterdir())  # the last step saved
    config = json.loads((run_dir / "finetune_config.json").read_text())
    assert config["dataset_kwargs"]["standardize_fn"]["module"] == "rldg_octo_standardize"
    ours = json.loads((export / "dataset_statistics.json").read_text())
    trained = trained_batch_summary(side_python, run_dir)
    # Octo normalized with our statistics file (it would compute its own without it) and our mask
    np.testing.assert_allclose(trained["mean"], ours["action"]["mean"], rtol=1e-6)
    np.testing.assert_allclose(trained["std"], ours["action"]["std"], rtol=1e-6)
    assert trained["mask"] == [True, True, True, False] and trained["action_dim"] == 4  # head updated 7 -> 4
    # our standardize function ran: the contract's gripper in [-1, 1] reached Octo in [0, 1] (a value
    # below 0.5 was negative in our data; the saved example batch is 8 windows, often mostly 0.5)
    gripper = np.array(trained["gripper"])
    assert gripper.min() >= 0.0 and gripper.max() <= 1.0 and gripper.min() < 0.5, gripper
    return run_dir


@pytest.fixture(scope="module")
def smoke_run(octo_mix, tiny_checkpoint, side_python, tmp_path_factory) -> tuple:
    """make test's quick run: 2 steps of Octo's finetune.py (most of its time is JAX compiling)."""
    export = tmp_path_factory.mktemp("octo_smoke") / "export"
    return export, finetune(octo_mix, export, tiny_checkpoint, side_python, steps=2, batch_size=4, fast_compile=True)


def test_finetune_smoke_runs_octo_to_its_end(smoke_run, side_python):
    export, res = smoke_run
    check_run(res, export, side_python, steps=2)
    assert losses(export) and "Octo checkpoint:" in res.stdout


def evaluate(run_dir: Path, side_python: Path, out: Path, episodes: int, max_steps: int = 0) -> dict:
    """`rldg generalist eval --policy octo:RUN` as a user runs it (a subprocess: the simulator
    renders there, and this process has imported TensorFlow)."""
    cmd = [BIN / "rldg", "generalist", "eval", "--policy", f"octo:{run_dir}", "--octo-python", side_python,
           "--task", "insertion", "--variants", "vga", "--episodes", str(episodes), "--out", out,
           *(["--max-steps", str(max_steps)] if max_steps else [])]
    res = subprocess.run([str(c) for c in cmd], cwd=REPO, capture_output=True, text=True, timeout=1800,
                         env=dict(os.environ, CUDA_VISIBLE_DEVICES="", MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl")))
    assert res.returncode == 0, f"{res.stdout[-3000:]}\n{res.stderr[-6000:]}"
    results = json.loads(out.read_text())
    row = results["variants"]["vga"]
    assert row["episodes"] == episodes and row["split"] == "seen" and len(row["ci95"]) == 2
    assert set(results["splits"]) == {"seen"} and out.with_suffix(".md").is_file()
    # decision rate and chunking as the checkpoint's config says (4-step chunks, window 2)
    assert results["octo"]["action_horizon"] == 4 and results["octo"]["exec_horizon"] == 4
    assert results["octo"]["window"] == 2 and results["octo"]["decisions_per_step"] == 0.25
    assert results["octo"]["image_sizes"] == {"primary": [64, 64], "wrist": [32, 32]}
    assert results["octo"]["action_dim"] == 4
    return results


def test_eval_smoke_octo_policy_steps_our_simulator(smoke_run, side_python, tmp_path):
    export, res = smoke_run
    assert res.returncode == 0
    evaluate(saved_run(export), side_python, tmp_path / "eval.json", episodes=1, max_steps=8)


def test_served_actions_are_unnormalized_with_the_checkpoints_statistics(smoke_run, side_python, tmp_path):
    """The server applies the checkpoint's own statistics and mask (as Octo's eval scripts do):
    with the means moved far away and tiny stds, the normalized dimensions reach us at the means;
    the gripper (mask False: not normalized) is left as the model predicts it."""
    import shutil

    from trainers.octo_policy import OctoRemotePolicy

    export, res = smoke_run
    assert res.returncode == 0
    run_dir = tmp_path / "run"
    shutil.copytree(saved_run(export), run_dir)
    stats_path = run_dir / "dataset_statistics.json"
    stats = json.loads(stats_path.read_text())
    stats["action"]["mean"], stats["action"]["std"] = [10.0, 20.0, 30.0, 0.5], [1e-4] * 4
    stats_path.write_text(json.dumps(stats))
    policy = OctoRemotePolicy(run_dir, str(side_python), log=tmp_path / "server.log")
    try:
        obs = {"image": np.zeros((64, 64, 3), np.uint8), "wrist_image": np.zeros((64, 64, 3), np.uint8),
               "state": np.zeros(4, np.float32)}
        policy.reset(0)
        actions = np.array([policy.act(obs) for _ in range(6)])
    finally:
        policy.close()
    assert actions.shape == (6, 4)
    np.testing.assert_allclose(actions[:, :3], np.tile([10.0, 20.0, 30.0], (6, 1)), atol=1e-2)
    # unnormalized with mean 0.5 and std 1e-4, the gripper would come back at 2 * 0.5 - 1 = 0 exactly
    assert np.any(np.abs(actions[:, 3]) > 1e-2), actions[:, 3]
    assert policy.process.returncode == 0


@pytest.mark.slow
def test_finetune_50_steps_loss_falls_then_10_episodes_in_the_sim(octo_mix, tiny_checkpoint, side_python,
                                                                  tmp_path):
    export = tmp_path / "export"
    res = finetune(octo_mix, export, tiny_checkpoint, side_python, steps=50, fast_compile=True)
    run_dir = check_run(res, export, side_python, steps=50)
    logged = losses(export)
    assert len(logged) == 10, logged  # log_interval 5
    first, last = np.mean([v for _, v in logged[:2]]), np.mean([v for _, v in logged[-2:]])
    assert last < first, logged
    results = evaluate(run_dir, side_python, tmp_path / "eval.json", episodes=10)
    print(json.dumps({"losses": logged, "eval": results["variants"]}))


DEFECTS = {
    # issue 17's three defects of the Octo export, each put back into the written config
    "standardize_fn as a module:function string": lambda kw: kw.update(
        standardize_fn="rldg_octo_standardize:standardize"),
    "all-None depth_obs_keys": lambda kw: kw.update(depth_obs_keys={"primary": None, "wrist": None}),
    "dataset name without the version folder's parent": lambda kw: kw.update(name="no_such_dataset"),
}


@pytest.mark.parametrize("defect", [pytest.param(name, marks=[] if i == 0 else [pytest.mark.slow])
                                    for i, name in enumerate(DEFECTS)])
def test_a_wrong_key_put_back_makes_octo_fail(defect, octo_mix, tiny_checkpoint, side_python, tmp_path):
    from trainers.octo_launch import launch_octo

    export = tmp_path / "export"
    run([BIN / "rldg", "finetune", "octo", octo_mix, "--out", export, "--steps", "2", "--batch-size", "4",
         "--pretrained", tiny_checkpoint, *SIZES])
    path = export / "octo_finetune_config.json"
    config = json.loads(path.read_text())
    DEFECTS[defect](config["dataset_kwargs"])
    path.write_text(json.dumps(config))
    log = tmp_path / "octo.log"
    code = launch_octo(export, str(side_python), wandb_mode="disabled", metrics=export / "runs" / "m.jsonl",
                       log=log)
    assert code != 0, log.read_text()[-3000:]
    assert not list((export / "runs").glob("*/*/2")), "no checkpoint from a failed run"
