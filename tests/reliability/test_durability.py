"""Power cut: the publish points flush to disk. `strace -f -y -e trace=fsync,fdatasync` of the
user's `rldg mix` and `rldg collect` shows every file of the published dataset / finished episode
flushed before its rename and the folder that received the name flushed after; RLDG_FSYNC=0
shows none (the switch the cost benchmark uses: benchmarks/bench_fsync.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_episodes

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed "
                                "(apt-get install -y strace)")
FSYNC = re.compile(r"f(?:data)?sync\(\d+<([^>]*)>\)\s*=\s*0")


def flushed(argv: list[str], tmp_path: Path, **env) -> list[str]:
    """Runs `argv` under strace; the paths it flushed, in order."""
    trace = tmp_path / "trace.txt"
    res = subprocess.run(["strace", "-f", "-y", "-qq", "-o", str(trace), "-e", "trace=fsync,fdatasync", *argv],
                         capture_output=True, text=True, timeout=600, cwd=REPO,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO), **env))
    assert res.returncode == 0, res.stderr[-3000:]
    return FSYNC.findall(trace.read_text())


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_mix_flushes_every_file_and_the_folder_entry(tmp_path):
    from rldg_data.io.writer import write_dataset

    source = write_dataset(make_episodes(8, seed=1), tmp_path / "src", "rl")
    recipe = tmp_path / "durable.yaml"
    recipe.write_text(f"name: durable\nseed: 0\nsources:\n  rl: {{path: {source}}}\n")
    data = tmp_path / "data"
    paths = flushed([str(BIN / "rldg"), "mix", str(recipe), "--data-dir", str(data)], tmp_path)
    version = data / "durable" / "1.0.0"
    inside = [p.split("/durable/", 1)[1] for p in paths if "/durable/.tmp-" in p]
    staged = {rel.split("/", 1)[1] for rel in inside if "/" in rel}  # path inside the staged folder
    assert files_under(version) <= staged, (files_under(version), staged)
    assert str(data / "durable") in paths  # the folder that received the new name, after the rename
    assert paths.index(str(data / "durable")) > max(i for i, p in enumerate(paths) if "/durable/.tmp-" in p)
    again = flushed([str(BIN / "rldg"), "mix", str(recipe), "--data-dir", str(tmp_path / "nosync")], tmp_path,
                    RLDG_FSYNC="0")
    assert not [p for p in again if str(tmp_path / "nosync") in p]


def test_collect_flushes_a_finished_episode_before_it_counts(tmp_path):
    out = tmp_path / "logs"
    paths = flushed([str(BIN / "rldg"), "collect", "--task", "insertion", "--variant", "vga", "--policy", "expert",
                     "--image-size", "32", "--episodes", "1", "--out", str(out)], tmp_path)
    episode = out / "worker-000" / "ep-000000"
    partial = out / "worker-000" / ".ep-000000.partial"
    synced = {Path(p).relative_to(partial).as_posix() for p in paths if p.startswith(str(partial) + "/")}
    assert files_under(episode) <= synced, (files_under(episode), synced)
    assert str(out / "worker-000") in paths
