"""`rldg mix` shows a progress bar on stderr over its source-shard tasks, as TFDS and LeRobot do,
and is silent when stderr is not a terminal (issue 33)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from rldg_data.cli import main
from rldg_data.io.writer import write_dataset
from rldg_data.mix import progress as mix_progress
from rldg_data.mix.pipeline import build_mix, work_units
from rldg_data.mix.recipe import load_recipe
from tests.factories import make_episodes


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    """Two sources of several small shards each (a plan pass and a build pass over 2 x 4+ shards)."""
    root = tmp_path_factory.mktemp("progress")
    write_dataset(make_episodes(16, seed=1, image_size=8), root, "a", max_shard_bytes=4096)
    write_dataset(make_episodes(12, seed=2, image_size=8), root, "b", max_shard_bytes=4096)
    path = root / "mix.yaml"
    path.write_text("name: progress_mix\nseed: 3\nval_fraction: 0.2\n"
                    "sources:\n  a: {path: a, weight: 0.5}\n  b: {path: b, weight: 0.5}\n")
    return path


def test_build_mix_reports_every_task_of_both_passes_once_and_leaves_no_markers(recipe, tmp_path):
    seen = []
    total = work_units(load_recipe(recipe))
    built = build_mix(load_recipe(recipe), tmp_path, progress=seen.append)
    assert total >= 10 and sum(seen) == total
    assert not (built / mix_progress.MARKER_DIR).exists()  # the markers are not published


def test_rldg_mix_draws_a_bar_on_a_terminal(recipe, tmp_path):
    """As a user runs it in a terminal: stderr is a tty, the bar counts every task to the end."""
    total = work_units(load_recipe(recipe))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a width
    rldg = Path(sys.executable).parent / "rldg"
    proc = subprocess.Popen([str(rldg), "mix", str(recipe), "--data-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(master)
    err = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, err[-2000:]
    assert "wrote" in out and "shard" not in out  # the bar never goes to stdout
    assert re.search(rf"mix: 100%.*\b{total}/{total} ", err), err[-2000:]


def test_rldg_mix_draws_no_bar_when_stderr_is_not_a_terminal(recipe, tmp_path, capsys):
    """Under pytest (as in a CI log or a pipe) stderr is not a tty: nothing but the summary."""
    assert main(["mix", str(recipe), "--data-dir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out
    assert "shard" not in captured.err and "%|" not in captured.err and "\r" not in captured.err
