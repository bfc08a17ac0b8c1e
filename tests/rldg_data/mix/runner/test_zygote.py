"""`--workers N`: Beam worker processes forked from the preloaded zygote (rldg_data.mix.runner.zygote).

What a user relies on: the workers really are separate processes that run the pipeline, a worker
that dies mid-run fails the run instead of hanging it, and no process outlives the driver.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import apache_beam as beam
import psutil
import pytest

from rldg_data.mix.runner import zygote
from rldg_data.mix.runner.local_runner import ForkingFnApiRunner
from rldg_data.mix.pipeline import pipeline_options

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers: Linux only")
TWO_WORKERS = "direct_running_mode=multi_processing,direct_num_workers=2"


def _whoami(_):
    return os.getpid(), os.getppid(), " ".join(psutil.Process().cmdline())


def _die_on_three(x):
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


def test_two_workers_are_forks_of_the_zygote_and_end_with_the_run(tmp_path):
    results = _collect(tmp_path, TWO_WORKERS)
    pool = zygote.shared_pool()
    pids = {pid for pid, _, _ in results}
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not this one
    assert {ppid for _, ppid, _ in results} == {pool.process.pid}  # forked by the zygote ...
    assert all("rldg_data.mix.runner.zygote" in cmd for _, _, cmd in results)  # ... not new interpreters
    assert all(_gone(pid) for pid in pids)


def test_turned_off_beam_starts_new_interpreters(tmp_path, monkeypatch):
    monkeypatch.setenv(zygote.DISABLE_VARIABLE, "0")
    results = _collect(tmp_path, TWO_WORKERS)
    assert all("-m apache_beam.runners.worker.sdk_worker_main" in cmd for _, _, cmd in results)


def test_forked_workers_end_their_bundles_promptly(tmp_path):
    """A bundle ends by joining its state-sampler thread, which Beam lets sleep up to 200 ms: ~0.1 s
    idle per bundle on average. The bundles of forked workers sample at a 10 ms period."""
    folder = str(tmp_path)

    def record_period(x):
        from apache_beam.runners.worker import statesampler

        with open(os.path.join(folder, f"{x}.txt"), "w") as f:
            f.write(str(statesampler.get_current_tracker().sampling_period_ms))
        return x

    p = beam.Pipeline(runner=ForkingFnApiRunner(), options=pipeline_options(TWO_WORKERS))
    _ = p | beam.Create(list(range(4))) | beam.Map(record_period)
    p.run().wait_until_finish()
    periods = {int((tmp_path / f"{x}.txt").read_text()) for x in range(4)}
    assert periods == {zygote.STATE_SAMPLING_PERIOD_MS} and zygote.STATE_SAMPLING_PERIOD_MS <= 10


def _collect(tmp_path, options):
    """Runs `_whoami` over 8 elements on the local runner; results come back through files."""
    folder = str(tmp_path)

    def record(x):
        pid, ppid, cmd = _whoami(x)
        with open(os.path.join(folder, f"{x}.txt"), "w") as f:
            f.write(f"{pid}\n{ppid}\n{cmd}")
        return x

    p = beam.Pipeline(runner=ForkingFnApiRunner(), options=pipeline_options(options))
    _ = p | beam.Create(list(range(8))) | beam.Map(record)
    p.run().wait_until_finish()
    out = []
    for x in range(8):
        pid, ppid, cmd = (tmp_path / f"{x}.txt").read_text().split("\n", 2)
        out.append((int(pid), int(ppid), cmd))
    return out


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # Beam's data-plane
def test_a_worker_killed_mid_run_fails_the_run_instead_of_hanging():  # reader sees the broken stream
    p = beam.Pipeline(runner=ForkingFnApiRunner(), options=pipeline_options(TWO_WORKERS))
    _ = p | beam.Create(list(range(8))) | beam.Map(_die_on_three)
    outcome = {}

    def run():
        try:
            p.run().wait_until_finish()
            outcome["error"] = None
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the run hung after its worker was killed"
    assert "ended in the middle of the run" in str(outcome["error"])
    assert "exit code -9" in str(outcome["error"])


def test_the_zygote_and_its_workers_end_when_the_driver_is_killed(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from rldg_data.mix.runner import zygote
        pool = zygote.shared_pool()
        pool.ready.wait(120)
        print(pool.process.pid, flush=True)
        time.sleep(600)
    """)
    driver = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        zygote_pid = int(driver.stdout.readline())
        assert psutil.pid_exists(zygote_pid)
        driver.kill()
        driver.wait()
        assert _gone(zygote_pid), "the zygote outlived its driver"
    finally:
        driver.kill()


def test_a_dead_zygote_is_replaced_on_next_use():
    pool = zygote.shared_pool()
    pool.ready.wait(120)
    os.kill(pool.process.pid, signal.SIGKILL)
    pool.process.wait()
    assert zygote.shared_pool() is not pool


def test_ctrl_c_ends_the_run_and_its_workers_at_once(tmp_path):
    """Ctrl-C (SIGINT to the process group) in the middle of a bundle: the driver stops within
    seconds (it does not wait for the workers' bundles), and no worker or zygote is left."""
    script = textwrap.dedent(f"""
        import os, signal, time
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (a background
        import apache_beam as beam  # job started by a script inherits SIGINT ignored)
        from rldg_data.mix.runner.local_runner import ForkingFnApiRunner
        from rldg_data.mix.pipeline import pipeline_options

        def slow(x):
            open(os.path.join({str(tmp_path)!r}, str(os.getpid())), "w").close()
            time.sleep(60)
            return x

        p = beam.Pipeline(runner=ForkingFnApiRunner(), options=pipeline_options({TWO_WORKERS!r}))
        _ = p | beam.Create(list(range(4))) | beam.Map(slow)
        try:
            p.run().wait_until_finish()
        except KeyboardInterrupt:
            raise SystemExit(130)
    """)
    driver = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:  # both workers busy
            time.sleep(0.1)
        workers = [int(p.name) for p in tmp_path.iterdir()]
        assert len(workers) == 2
        started = time.monotonic()
        os.killpg(driver.pid, signal.SIGINT)
        assert driver.wait(30) == 130
        assert time.monotonic() - started < 15
        assert all(_gone(pid) for pid in workers)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
