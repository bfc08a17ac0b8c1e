"""Collection runs: parallel workers with their own seeds and folders, resumption, and SIGKILL safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from collectors.collect import CollectConfig, collect
from collectors.logs import episode_logs, iter_log_episodes
from rldg_data.contract.check import validate_episode

TOY = dict(env_factory="tests.collectors.toy_env:make_env",
           demonstrator_factory="tests.collectors.toy_env:make_policy")
REPO = Path(__file__).resolve().parents[2]


def test_parallel_workers_record_every_episode_once_with_distinct_seeds(tmp_path):
    config = CollectConfig(task="toy", variant="a", policy="human", episodes=5, out=str(tmp_path),
                           workers=2, seed=100, **TOY)
    seen = []
    summary = collect(config, progress=seen.append)
    assert summary.recorded == 5 and len(seen) == 5
    assert sorted(p.parent.name for p in episode_logs([tmp_path])) == ["worker-000"] * 2 + ["worker-001"] * 3
    episodes = list(iter_log_episodes([tmp_path]))
    assert sorted(e.metadata.seed for e in episodes) == [100, 101, 102, 103, 104]
    assert len({e.episode_id for e in episodes}) == 5
    assert (tmp_path / "collect.json").is_file()
    # same command again: nothing left to record
    again = collect(config, in_process=True)
    assert again.recorded == 0 and again.skipped == 5


def test_a_bigger_rerun_records_only_the_new_episodes_and_never_an_episode_twice(tmp_path):
    small = CollectConfig(task="toy", variant="a", policy="human", episodes=2, out=str(tmp_path),
                          workers=2, seed=7, **TOY)
    collect(small)
    bigger = CollectConfig(task="toy", variant="a", policy="human", episodes=6, out=str(tmp_path),
                           workers=2, seed=7, **TOY)
    summary = collect(bigger)  # worker ranges differ from the first run's: 0-2 and 3-5
    assert summary.recorded == 4 and summary.skipped == 2
    episodes = list(iter_log_episodes([tmp_path]))
    assert sorted(e.metadata.seed for e in episodes) == [7, 8, 9, 10, 11, 12]
    assert len({e.episode_id for e in episodes}) == 6


def test_sigkill_keeps_exactly_the_finished_episodes(tmp_path):
    out = tmp_path / "logs"
    cmd = [sys.executable, "-m", "rldg_data.cli", "collect", "--task", "toy", "--variant", "a",
           "--policy", "human", "--episodes", "500", "--out", str(out),
           "--env-factory", "tests.collectors.toy_env:make_slow_env",
           "--demonstrator-factory", "tests.collectors.toy_env:make_policy"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(episode_logs([out]) if out.is_dir() else []) < 3:
            assert proc.poll() is None, "collector exited early"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = episode_logs([out])
    assert len(finished) >= 3
    partial = [p for p in (out / "worker-000").iterdir() if p.name.endswith(".partial")]
    assert len(partial) <= 1
    episodes = list(iter_log_episodes([out]))  # every finished log reads back whole
    assert len(episodes) == len(finished)
    for episode in episodes:
        validate_episode(episode)
        assert episode.steps["is_last"][-1]
