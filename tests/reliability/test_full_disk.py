"""A full disk: the user's commands run as subprocesses under a file-size limit (RLIMIT_FSIZE, as
`prlimit --fsize` sets it: writes past it fail with EFBIG) and, where this machine lets us mount
one, on a small tmpfs (ENOSPC). Each must exit non-zero with one error line naming the path and
what was being written, leave nothing half-written, and leave the previous output (dataset,
archive, export, finished episodes) exactly as it was and valid."""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.factories import make_episodes

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SPACE_WORDS = ("File too large", "No space left on device")


def tree_digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted([path] if path.is_file() else path.rglob("*")):
        h.update(str(p.relative_to(path.parent)).encode() + b"\0")
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def run(argv: list[str], fsize: int | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`argv` as a user runs it; with `fsize`, no file may grow past that many bytes."""
    def limit():
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO), RLDG_MIX_FORKED_WORKERS="1")
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO,
                          preexec_fn=limit)


def rldg(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    return run([str(BIN / "rldg"), *args], fsize)


def one_space_error(res: subprocess.CompletedProcess, path: Path) -> str:
    """The one error line of a run that ran out of space; it names `path`."""
    assert res.returncode != 0, res.stdout[-2000:]
    assert "Traceback" not in res.stderr, res.stderr[-4000:]
    errors = [line for line in res.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, res.stderr[-4000:]
    assert str(path) in errors[0] and any(w in errors[0] for w in SPACE_WORDS), errors[0]
    return errors[0]


def leftovers(folder: Path) -> list[str]:
    """Temporaries left under `folder` (hidden names, TFDS's incomplete.* folders)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.startswith((".tmp", ".old", ".rebuild", "incomplete.")) or p.name.endswith(".partial"))


def valid(version_dir: Path) -> None:
    res = rldg("validate", str(version_dir))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]


@contextlib.contextmanager
def small_fs(size_bytes: int):
    """A tmpfs of `size_bytes` (skips where mounting is not permitted)."""
    where = Path(tempfile.mkdtemp(prefix="rldg-smallfs-"))
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(where)],
                         capture_output=True, text=True)
    if got.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here ({got.stderr.strip()}): the file-size limit tests stand in")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    from rldg_data.io.writer import write_dataset

    root = tmp_path_factory.mktemp("sources")
    return (write_dataset(make_episodes(12, seed=1), root, "rl"),
            write_dataset(make_episodes(12, seed=2), root, "human"))


def recipe(folder: Path, sources, name: str = "full") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nseed: 0\nval_fraction: 0.2\nsources:\n"
                    f"  rl: {{path: {sources[0]}}}\n  human: {{path: {sources[1]}}}\n")
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_mix_under_a_file_size_limit_keeps_the_previous_mix(sources, tmp_path, workers):
    data, path = tmp_path / "data", recipe(tmp_path, sources)
    assert rldg("mix", str(path), "--data-dir", str(data)).returncode == 0
    version = data / "full" / "1.0.0"
    before = tree_digest(version)
    res = rldg("mix", str(path), "--data-dir", str(data), "--force", "--workers", workers, fsize=20_000)
    one_space_error(res, version)
    assert tree_digest(version) == before and leftovers(data) == []
    valid(version)


@pytest.mark.slow  # the tmpfs pack test stands for ENOSPC in make test
def test_mix_on_a_full_file_system(sources, tmp_path):
    first = tmp_path / "first"
    assert rldg("mix", str(recipe(tmp_path, sources)), "--data-dir", str(first)).returncode == 0
    size = sum(p.stat().st_size for p in first.rglob("*") if p.is_file())
    with small_fs(size + size // 2) as fs:
        path = recipe(fs, sources)
        assert rldg("mix", str(path), "--data-dir", str(fs / "data")).returncode == 0
        version = fs / "data" / "full" / "1.0.0"
        before = tree_digest(version)
        one_space_error(rldg("mix", str(path), "--data-dir", str(fs / "data"), "--force"), version)
        assert tree_digest(version) == before and leftovers(fs) == []
        valid(version)


def test_pack_under_a_file_size_limit_keeps_the_previous_archive(sources, tmp_path):
    archive = tmp_path / "rl.tar"
    assert rldg("pack", str(sources[0].parent), str(archive)).returncode == 0
    before = tree_digest(archive)
    one_space_error(rldg("pack", str(sources[0].parent), str(archive), "--force", fsize=20_000), archive)
    assert tree_digest(archive) == before and leftovers(tmp_path) == []


def test_pack_on_a_full_file_system(sources):
    size = sum(p.stat().st_size for p in sources[0].parent.rglob("*") if p.is_file())
    with small_fs(size + size // 2) as fs:
        archive = fs / "rl.tar"
        assert rldg("pack", str(sources[0].parent), str(archive)).returncode == 0
        before = tree_digest(archive)
        one_space_error(rldg("pack", str(sources[0].parent), str(archive), "--force"), archive)
        assert tree_digest(archive) == before and leftovers(fs) == []


def test_export_lerobot_under_a_file_size_limit_keeps_the_previous_export(sources, tmp_path):
    out = tmp_path / "lerobot"
    assert rldg("export", "lerobot", str(sources[0]), "--out", str(out)).returncode == 0
    before = tree_digest(out)
    one_space_error(rldg("export", "lerobot", str(sources[0]), "--out", str(out), "--force", fsize=20_000), out)
    assert tree_digest(out) == before and leftovers(tmp_path) == []


COLLECT = ["collect", "--task", "insertion", "--variant", "vga", "--policy", "expert", "--image-size", "32"]


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """One finished episode of a collector."""
    out = tmp_path_factory.mktemp("logs") / "logs"
    res = rldg(*COLLECT, "--episodes", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    return out


def test_collect_under_a_file_size_limit_keeps_finished_episodes(logs, tmp_path):
    out = tmp_path / "logs"
    subprocess.run(["cp", "-a", str(logs), str(out)], check=True)
    before = tree_digest(out / "worker-000" / "ep-000000")
    res = rldg(*COLLECT, "--episodes", "2", "--out", str(out), fsize=20_000)
    one_space_error(res, out)
    assert sorted(p.name for p in (out / "worker-000").iterdir()) == ["ep-000000"]
    assert tree_digest(out / "worker-000" / "ep-000000") == before


@pytest.mark.slow  # three TensorFlow start-ups
def test_tfds_build_under_a_file_size_limit_keeps_the_previous_dataset(logs, tmp_path):
    data = tmp_path / "data"
    build = [str(BIN / "tfds"), "build", str(REPO / "builders/rldg_rollouts"), "--data_dir", str(data),
             "--manual_dir", str(logs)]
    first = run(build)
    assert first.returncode == 0, first.stderr[-3000:]
    version = next(p for p in (data / "rldg_rollouts").rglob("dataset_info.json")).parent
    before = tree_digest(version)
    one_space_error(run(build + ["--overwrite"], fsize=20_000), version)
    assert tree_digest(version) == before and leftovers(data) == []
    valid(version)
