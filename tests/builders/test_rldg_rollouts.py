"""`tfds build builders/rldg_rollouts` on collector logs of every source gives a contract dataset.

Collects a few episodes of each source (scripted expert, human proxy, an RL policy, a human ->
specialist hand-off, a policy with interventions), builds them with the `tfds` command line in a
subprocess, loads the result with `tfds.builder_from_directory` and checks every contract field.
Runs on robot_io's MuJoCo tasks, and on a numpy toy task that keeps the check fast everywhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from collectors.collect import CollectConfig, collect
from collectors.logs import episode_logs
from rldg_data.contract.check import validate_episode
from rldg_data.validation.validate import validate_dataset

REPO = Path(__file__).resolve().parents[2]
TFDS = str(Path(sys.executable).parent / "tfds")
FIX = "tests.collectors.toy_env"


def _robot_io_ready() -> bool:
    try:
        import robot_io

        return all(hasattr(robot_io, n) for n in ("make", "DmEnv", "make_demonstrator"))
    except Exception:
        return False


SUITES = {
    # suite: (task, variant, handoff task, handoff variant, extra config, rl factory, erring factory)
    "toy": dict(single=("toy", "a"), staged=("toy", "a"),
                extra=dict(env_factory=f"{FIX}:make_env", demonstrator_factory=f"{FIX}:make_policy"),
                rl=f"{FIX}:toy_rl_policy", erring=f"{FIX}:toy_erring_policy", image_size=16),
    "robot_io": dict(single=("insertion", None), staged=("assembly", None), extra={},
                     rl=f"{FIX}:robot_rl_policy", erring=f"{FIX}:robot_erring_policy", image_size=32),
}


def _variant(task, variant):
    if variant:
        return variant
    import robot_io

    return robot_io.variants(task, "seen")[0]


def _collect_all_sources(suite: dict, logs: Path) -> None:
    task, variant = suite["single"][0], _variant(*suite["single"])
    stask, svariant = suite["staged"][0], _variant(*suite["staged"])
    common = dict(episodes=2, image_size=suite["image_size"], **suite["extra"])
    runs = {
        "expert": dict(task=task, variant=variant, policy="expert"),
        "human": dict(task=task, variant=variant, policy="human", seed=10),
        "policy": dict(task=task, variant=variant, policy=suite["rl"], seed=20),
        "handoff": dict(task=stask, variant=svariant, policy=suite["rl"], handoff="human-first", seed=30),
        "intervene": dict(task=task, variant=variant, policy=suite["erring"], intervene_with="expert",
                          intervene_steps=5, seed=40, episodes=1),
    }
    for name, kwargs in runs.items():
        # robot_io renders with EGL, which cannot start in this (TensorFlow-importing) process
        collect(CollectConfig(out=str(logs / name), **{**common, **kwargs}), in_process=suite is SUITES["toy"])


def _tfds_build(data_dir: Path, manual_dir: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    res = subprocess.run([TFDS, "build", "builders/rldg_rollouts", "--data_dir", str(data_dir),
                          "--manual_dir", str(manual_dir)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


def _load(data_dir: Path) -> list[dict]:
    import tensorflow_datasets as tfds

    import tensorflow as tf

    builder = tfds.builder_from_directory(str(data_dir / "rldg_rollouts" / "default" / "1.0.0"))
    episodes = []
    for ep in tfds.as_numpy(builder.as_dataset(split="train")):
        steps = list(ep["steps"])
        ep["steps"] = tf.nest.map_structure(lambda *xs: np.stack(xs), *steps)
        episodes.append(ep)
    return episodes, builder


def _check_all_sources(episodes, builder, size):
    """Every contract field of the 9 episodes of `_collect_all_sources`, hand-off sources included."""
    assert len(episodes) == 9
    by_run = {}  # runs of _collect_all_sources, told apart by their seed ranges
    for ep in episodes:
        meta, steps = ep["episode_metadata"], ep["steps"]
        by_run.setdefault(("expert", "human", "policy", "handoff", "intervene")[int(meta["seed"]) // 10],
                          []).append(ep)
        n = len(steps["action"])
        assert meta["length"] == n and meta["split"].decode() in ("seen", "unseen")
        assert meta["task"].decode() and meta["variant"].decode() and meta["episode_id"].decode()
        assert meta["episode_return"] == pytest.approx(steps["reward"].sum())
        assert bool(meta["success"]) == bool(steps["is_terminal"][-1])
        assert steps["observation"]["image"].shape == (n, size, size, 3)
        assert steps["observation"]["image"].dtype == np.uint8 and steps["observation"]["image"].max() > 0
        assert steps["observation"]["state"].shape == (n, 4)
        assert steps["observation"]["privileged_state"].shape[0] == n
        assert steps["is_first"][0] and not steps["is_first"][1:].any()
        assert steps["is_last"][-1] and not steps["is_last"][:-1].any()
        assert np.all(np.abs(steps["action"]) <= 1) and np.all(steps["action"][-1] == 0)
        assert len(set(steps["language_instruction"])) == 1
        assert steps["stage"].dtype == np.int32 and np.all(steps["stage"] >= 0)
    assert len({ep["episode_metadata"]["episode_id"] for ep in episodes}) == 9
    assert builder.info.features["steps"]["observation"]["image"].encoding_format == "jpeg"

    def sources(run):
        eps = by_run[run]
        return eps, [set(s.decode() for s in e["steps"]["source"]) for e in eps]

    assert sources("expert")[1] == [{"scripted"}] * 2
    assert sources("human")[1] == [{"human"}] * 2
    assert sources("policy")[1] == [{"rl"}] * 2
    _, mixed = sources("intervene")
    assert "intervention" in mixed[0]
    assert len({e["episode_metadata"]["policy_id"] for e in episodes}) == 5
    handoffs, labels = sources("handoff")
    for ep, label in zip(handoffs, labels):
        src = np.array([s.decode() for s in ep["steps"]["source"]])
        stage = ep["steps"]["stage"]
        assert "human" in label and "rl" in label, label
        switch = int(np.argmax(src == "rl"))
        assert set(src[:switch]) == {"human"} and set(src[switch:]) == {"rl"}
        assert stage[switch] >= stage[switch - 1] and stage[switch] > 0



def _start_and_kill_collector(logs: Path, at_least: int) -> int:
    """Starts `rldg collect` (toy task, ~10 ms a step), SIGKILLs it once `at_least` episodes are
    finished (mid-episode); returns how many finished episode logs it left."""
    cmd = [sys.executable, "-m", "rldg_data.cli", "collect", "--task", "toy", "--variant", "b",
           "--policy", "human", "--episodes", "500", "--out", str(logs), "--seed", "1000", "--image-size", "16",
           "--env-factory", f"{FIX}:make_slow_env", "--demonstrator-factory", f"{FIX}:make_policy"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and (len(episode_logs([logs])) if logs.is_dir() else 0) < at_least:
            assert proc.poll() is None, "collector exited early"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)  # the worker dies with its parent (PR_SET_PDEATHSIG); let it go
    return len(episode_logs([logs]))


def test_tfds_build_of_every_source_and_a_killed_run(tmp_path):
    """The acceptance test on the toy task: 9 episodes of 5 sources plus a collector killed with
    SIGKILL after k episodes, built by the `tfds build` CLI: 9 + exactly k episodes."""
    suite = SUITES["toy"]
    _collect_all_sources(suite, tmp_path / "logs")
    k = _start_and_kill_collector(tmp_path / "logs" / "killed", at_least=3)
    assert 3 <= k < 500
    assert k == _finished_after(tmp_path / "logs" / "killed", k)  # nothing more appears later
    _tfds_build(tmp_path / "data", tmp_path / "logs")
    episodes, builder = _load(tmp_path / "data")
    killed = [e for e in episodes if e["episode_metadata"]["variant"] == b"b"]
    assert sorted(int(e["episode_metadata"]["seed"]) for e in killed) == list(range(1000, 1000 + k))
    _check_all_sources([e for e in episodes if e["episode_metadata"]["variant"] == b"a"], builder,
                       suite["image_size"])
    report = validate_dataset(tmp_path / "data" / "rldg_rollouts" / "default")
    assert report.ok, [str(v) for v in report.violations]
    assert report.summary.episodes == 9 + k


def _finished_after(logs: Path, k: int, wait: float = 1.0) -> int:
    time.sleep(wait)
    return len(episode_logs([logs]))


@pytest.mark.slow
def test_tfds_build_of_every_source_on_robot_io(tmp_path):
    """The acceptance test on robot_io's MuJoCo tasks (insertion; assembly for the hand-off)."""
    if not _robot_io_ready():
        pytest.skip("robot_io does not export make/DmEnv/make_demonstrator yet")
    suite = SUITES["robot_io"]
    _collect_all_sources(suite, tmp_path / "logs")
    _tfds_build(tmp_path / "data", tmp_path / "logs")
    episodes, builder = _load(tmp_path / "data")
    _check_all_sources(episodes, builder, suite["image_size"])
    report = validate_dataset(tmp_path / "data" / "rldg_rollouts" / "default")
    assert report.ok, [str(v) for v in report.violations]


def test_robot_io_handoff_episode_labels_sources_and_stages(tmp_path):
    """One human -> specialist hand-off on robot_io's assembly task, recorded by a spawned worker
    and read back from its log: human steps before the bottleneck stage, rl steps from it on."""
    if not _robot_io_ready():
        pytest.skip("robot_io does not export make/DmEnv/make_demonstrator yet")
    import robot_io
    from collectors.logs import iter_log_episodes

    variant = robot_io.variants("assembly", "seen")[0]
    collect(CollectConfig(task="assembly", variant=variant, policy=f"{FIX}:robot_rl_policy",
                          handoff="human-first", episodes=1, image_size=32, out=str(tmp_path)))
    (episode,) = iter_log_episodes([tmp_path])
    validate_episode(episode)
    src, stage = episode.sources, episode.steps["stage"]
    bottleneck = robot_io.make("assembly", variant, render=False).bottleneck_stage
    assert set(src[stage < bottleneck]) <= {"human"} and "human" in set(src)
    assert set(src[stage >= bottleneck]) <= {"rl"} and "rl" in set(src)  # seed 0 reaches it


def _tfds(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", **(env_extra or {}))
    return subprocess.run([TFDS, "build", "builders/rldg_rollouts", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)


def _toy_logs(out: Path, episodes: int) -> Path:
    collect(CollectConfig(task="toy", variant="a", policy="human", episodes=episodes, out=str(out),
                          image_size=16, **SUITES["toy"]["extra"]), in_process=True)
    return out


@pytest.mark.slow  # ~2-8 min on 2 busy cores: four `tfds build` runs
@pytest.mark.timeout(1800)
def test_a_second_build_of_other_logs_never_returns_the_old_dataset(tmp_path):
    """Issue 22 #2: `tfds build ... --manual_dir LOGS` again after collecting more into LOGS (or
    with other logs) refuses to reuse the dataset of the old logs, says how to rebuild, and
    `--overwrite` rebuilds it."""
    data_dir, logs = tmp_path / "data", _toy_logs(tmp_path / "logs", 2)
    config_dir = data_dir / "rldg_rollouts" / "default"
    assert _tfds("--data_dir", str(data_dir), "--manual_dir", str(logs)).returncode == 0
    before = sorted((p.name, p.read_bytes()) for p in (config_dir / "1.0.0").iterdir())
    _toy_logs(logs, 3)  # one more episode into the same folder
    res = _tfds("--data_dir", str(data_dir), "--manual_dir", str(logs))
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "was built from other inputs (2 episode logs" in res.stderr and "not from 3 episode logs" in res.stderr
    assert "--overwrite" in res.stderr
    assert sorted((p.name, p.read_bytes()) for p in (config_dir / "1.0.0").iterdir()) == before
    res = _tfds("--data_dir", str(data_dir), "--manual_dir", str(logs), "--overwrite")
    assert res.returncode == 0, res.stderr[-3000:]
    assert validate_dataset(config_dir).summary.episodes == 3
    res = _tfds("--data_dir", str(data_dir), "--manual_dir", str(logs))  # same logs: reused
    assert res.returncode == 0 and validate_dataset(config_dir).summary.episodes == 3


def test_build_without_logs_says_what_to_pass(tmp_path):
    """Issue 22 #6: `tfds build builders/rldg_rollouts` without --manual_dir: a clear message."""
    res = _tfds("--data_dir", str(tmp_path / "data"))
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "no collector logs given: pass the folder `rldg collect --out` wrote as --manual_dir" in res.stderr
    res = _tfds("--data_dir", str(tmp_path / "data"), "--manual_dir", str(tmp_path / "nowhere"))
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert f"log folder {tmp_path / 'nowhere'} does not exist" in res.stderr
