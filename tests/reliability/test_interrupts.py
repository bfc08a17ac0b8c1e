"""SIGKILL at the worst moment: no half dataset is ever visible, the old one stays intact, and a
clean rerun succeeds. Also the log folder a killed collector leaves behind."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rldg_data.errors import DatasetError
from rldg_data.io.reader import resolve_dataset_dir
from rldg_data.validation.validate import validate_dataset

REPO = Path(__file__).resolve().parents[2]
TFDS = str(Path(sys.executable).with_name("tfds"))
HAVE_ROLLOUTS = (REPO / "builders" / "rldg_rollouts" / "rldg_rollouts_dataset_builder.py").is_file() \
    and importlib.util.find_spec("collectors.logs") is not None
needs_rollouts = pytest.mark.skipif(not HAVE_ROLLOUTS, reason="builders/rldg_rollouts (issue 4) missing")
TOY = ["--env-factory", "tests.collectors.toy_env:make_env",
       "--demonstrator-factory", "tests.collectors.toy_env:make_policy"]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")


def _kill_when(cmd: list[str], ready, timeout: float = 600) -> None:
    """Starts `cmd`, SIGKILLs it as soon as `ready()` holds (failing if it ends first)."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + timeout
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"{cmd[:3]} ended (rc {proc.returncode}) before the kill point: "
                            f"{proc.stderr.read().decode()[-2000:]}")
            assert time.time() < deadline, "kill point never reached"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _collect(out: Path, episodes: int, seed: int = 0) -> Path:
    from collectors.collect import CollectConfig, collect

    collect(CollectConfig(task="toy", variant="a", policy="human", episodes=episodes, out=str(out),
                          seed=seed, env_factory=TOY[1], demonstrator_factory=TOY[3]))
    return out


def _build(data_dir: Path, logs: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([TFDS, "build", str(REPO / "builders" / "rldg_rollouts"), "--data_dir",
                           str(data_dir), "--manual_dir", str(logs), *extra],
                          cwd=REPO, env=_env(), capture_output=True, text=True, timeout=900)


def _build_cmd(data_dir: Path, logs: Path, *extra: str) -> list[str]:
    return [TFDS, "build", str(REPO / "builders" / "rldg_rollouts"), "--data_dir", str(data_dir),
            "--manual_dir", str(logs), *extra]


def _shard_being_written(folder: Path):
    """True once TFDS has opened its temporary build folder (`incomplete.*`): examples are being
    generated into it. (Waiting for a shard file there is too late: TFDS writes the shards of a
    small dataset in one go at the end of the split, often faster than a poll can see.)"""
    return lambda: folder.is_dir() and any(p.is_dir() for p in folder.glob("incomplete.*"))


@pytest.fixture(scope="module")
def toy_logs(tmp_path_factory):
    if not HAVE_ROLLOUTS:
        pytest.skip("collectors / builders/rldg_rollouts (issue 4) missing")
    return _collect(tmp_path_factory.mktemp("logs") / "run", 40)


@needs_rollouts
def test_sigkill_during_tfds_build_leaves_no_dataset_then_rerun_succeeds(toy_logs, tmp_path):
    data_dir = tmp_path / "data"
    config_dir = data_dir / "rldg_rollouts" / "default"
    _kill_when(_build_cmd(data_dir, toy_logs), _shard_being_written(config_dir))
    assert not (config_dir / "1.0.0").exists()
    with pytest.raises(DatasetError):
        resolve_dataset_dir(config_dir)  # the killed build's temporaries are not a dataset
    res = _build(data_dir, toy_logs)
    assert res.returncode == 0, res.stderr[-3000:]
    report = validate_dataset(config_dir)
    assert report.ok and report.summary.episodes == 40, report.violations[:3]


def _snapshot(version_dir: Path) -> list:
    return sorted((p.name, p.read_bytes()) for p in version_dir.iterdir())


def _rebuild_folders(config_dir: Path, pattern: str = "*"):
    return lambda: any(config_dir.glob(f".rebuild-*/{pattern}"))


# Kill points of a rebuild: polled from outside (the rebuild folder appears; TFDS writes examples
# into it) and, for the instants around the swap that no poll can hit, from inside
# (tests/reliability/kill_at.py kills the real `tfds build` at that line).
POLLED_KILLS = {"rebuild_started": "*", "examples_being_written": "build/incomplete.*"}
INNER_KILLS = ("before_swap", "after_swap", "mid_cleanup")


@pytest.fixture
def old_dataset(tmp_path):
    """A 3-episode rldg_rollouts dataset built by `tfds build`: (config folder, its snapshot)."""
    data_dir = tmp_path / "data"
    res = _build(data_dir, _collect(tmp_path / "small", 3, seed=500))
    assert res.returncode == 0, res.stderr[-3000:]
    config_dir = data_dir / "rldg_rollouts" / "default"
    return config_dir, _snapshot(config_dir / "1.0.0")


@pytest.mark.slow  # ~2-5 min on 2 busy cores: three `tfds build` runs
@pytest.mark.timeout(1800)
@needs_rollouts
def test_sigkill_during_tfds_rebuild_keeps_the_old_dataset(toy_logs, old_dataset):
    """`tfds build builders/rldg_rollouts --overwrite` killed while it prepares and while it
    writes examples (polled from outside): the old dataset is there, byte for byte, validate-clean."""
    config_dir, before = old_dataset
    data_dir = config_dir.parent.parent
    for point, pattern in POLLED_KILLS.items():
        _kill_when(_build_cmd(data_dir, toy_logs, "--overwrite"), _rebuild_folders(config_dir, pattern))
        assert (config_dir / "1.0.0").is_dir(), f"killed at {point}: the old dataset vanished"
        assert _snapshot(config_dir / "1.0.0") == before, point
        report = validate_dataset(config_dir)
        assert report.ok and report.summary.episodes == 3, (point, report.violations[:3])


@pytest.mark.slow  # ~3-7 min on 2 busy cores: five `tfds build` runs
@pytest.mark.timeout(1800)
@needs_rollouts
def test_sigkill_around_the_rebuild_swap_leaves_a_whole_dataset_then_rerun_succeeds(toy_logs, old_dataset):
    """Killed just before the swap (old dataset, byte for byte), just after it and halfway through
    deleting the old one (the new dataset, whole): never none, never a mixture; a rerun sweeps
    what the kills left."""
    config_dir, before = old_dataset
    data_dir = config_dir.parent.parent
    for point in INNER_KILLS:
        cmd = [sys.executable, "-m", "tests.reliability.kill_at", point] + _build_cmd(data_dir, toy_logs,
                                                                                      "--overwrite")[1:]
        res = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=900)
        assert res.returncode == -signal.SIGKILL, (point, res.stderr[-3000:])
        report = validate_dataset(config_dir)
        expected = 3 if point == "before_swap" else 40  # after the swap the new one is in place
        assert report.ok and report.summary.episodes == expected, (point, report.violations[:3])
        if point == "before_swap":
            assert _snapshot(config_dir / "1.0.0") == before
        visible = sorted(p.name for p in config_dir.iterdir() if not p.name.startswith("."))
        assert visible == ["1.0.0"], (point, visible)
    res = _build(data_dir, toy_logs, "--overwrite")  # a clean rerun sweeps what the kills left
    assert res.returncode == 0, res.stderr[-3000:]
    assert sorted(p.name for p in config_dir.iterdir()) == ["1.0.0"]
    report = validate_dataset(config_dir)
    assert report.ok and report.summary.episodes == 40


def test_replace_dir_killed_around_the_swap_leaves_a_whole_folder(tmp_path):
    """`rldg mix --force` and the writer publish with `atomic.replace_dir`: SIGKILL just before or
    just after its exchange leaves the old or the new folder whole under the final name."""
    for point, expected in (("before", "old"), ("after", "new")):
        final, new = tmp_path / point / "1.0.0", tmp_path / point / ".tmp-1.0.0"
        for folder, text in ((final, "old"), (new, "new")):
            folder.mkdir(parents=True)
            for i in range(20):
                (folder / f"part-{i}").write_text(text)
        code = ("import os, shutil, signal, sys; from rldg_data.io import atomic\n"
                "die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
                f"if {point!r} == 'before': atomic.exchange_dirs = die\n"
                "else: shutil.rmtree = die\n"
                f"atomic.replace_dir({str(new)!r}, {str(final)!r})\n")
        res = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_env(), capture_output=True,
                             text=True, timeout=60)
        assert res.returncode == -signal.SIGKILL, res.stderr
        assert {p.read_text() for p in final.iterdir()} == {expected} and len(list(final.iterdir())) == 20


@pytest.mark.slow  # ~40 s on 2 busy cores: a slowed collector, then a full tfds build
@needs_rollouts
def test_killed_collector_log_folder_builds_only_finished_episodes(tmp_path):
    from collectors.logs import episode_logs

    logs = tmp_path / "logs"
    cmd = [sys.executable, "-m", "rldg_data.cli", "collect", "--task", "toy", "--variant", "a",
           "--policy", "human", "--episodes", "500", "--out", str(logs),
           "--env-factory", "tests.collectors.toy_env:make_slow_env", "--demonstrator-factory", TOY[3]]
    _kill_when(cmd, lambda: logs.is_dir() and len(episode_logs([logs])) >= 3
               and any(p.name.endswith(".partial") for p in logs.glob("worker-*/.*")))
    finished = len(episode_logs([logs]))
    res = _build(tmp_path / "data", logs)
    assert res.returncode == 0, res.stderr[-3000:]
    report = validate_dataset(tmp_path / "data" / "rldg_rollouts" / "default")
    assert report.ok and report.summary.episodes == finished


@pytest.mark.slow
@pytest.mark.timeout(1800)
@needs_rollouts
def test_damaged_episode_log_fails_the_build_naming_it(tmp_path):
    from collectors.logs import episode_logs

    logs = _collect(tmp_path / "logs", 3)
    victim = episode_logs([logs])[1]
    data_file = max((p for p in victim.rglob("*") if p.is_file() and p.name != "metadata.riegeli"),
                    key=lambda p: p.stat().st_size)
    data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])
    res = _build(tmp_path / "data", logs)
    assert res.returncode != 0
    assert victim.name in res.stderr and "toy/a/toy-human/seed1" in res.stderr, res.stderr[-3000:]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    config_dir = tmp_path / "data" / "rldg_rollouts" / "default"
    assert not (config_dir / "1.0.0").exists()

    # With the explicit option the build leaves it out, counts it in the card and says so.
    env = dict(_env(), RLDG_SKIP_DAMAGED_LOGS="1")
    res = subprocess.run(_build_cmd(tmp_path / "data", logs), cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    said = res.stdout + res.stderr  # the tfds command logs through tqdm.write (stdout)
    assert "1 damaged episode log(s) were left out" in said and victim.name in said, said[-5000:]
    report = validate_dataset(config_dir)
    assert report.ok and report.summary.episodes == 2
    card = (config_dir / "1.0.0" / "README.md").read_text()
    assert "damaged logs skipped: 1" in card and str(victim) in card


@pytest.mark.slow  # ~2-6 min: three Beam builds of the dummy recipe
@pytest.mark.timeout(1800)
def test_sigkill_during_tfds_rebuild_of_the_mix_builder_keeps_the_old_dataset(tmp_path):
    """builders/rldg_mix has the same hook: `tfds build builders/rldg_mix --overwrite` killed just
    before its swap leaves the old mix byte for byte; killed after it, the new one is whole."""
    data_dir = tmp_path / "data"
    env = dict(_env(), PYTHONPATH=os.pathsep.join([str(REPO / "builders"), str(REPO)]))
    cmd = ["build", str(REPO / "builders" / "rldg_mix"), "--config", "dummy", "--data_dir", str(data_dir)]
    res = subprocess.run([TFDS, *cmd], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    config_dir = data_dir / "rldg_mix" / "dummy"
    before = _snapshot(config_dir / "1.0.0")
    for point in ("before_swap", "after_swap"):
        res = subprocess.run([sys.executable, "-m", "tests.reliability.kill_at", point, *cmd, "--overwrite"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
        assert res.returncode == -signal.SIGKILL, (point, res.stderr[-3000:])
        report = validate_dataset(config_dir)
        assert report.ok, (point, report.violations[:3])
        if point == "before_swap":
            assert _snapshot(config_dir / "1.0.0") == before
        assert sorted(p.name for p in config_dir.iterdir() if not p.name.startswith(".")) == ["1.0.0"]
    for side_file in ("dataset_statistics.json", "README.md", "rldg_info.json"):
        assert (config_dir / "1.0.0" / side_file).is_file(), side_file
