"""No command destroys data: every command that takes an output path, run as the user runs it
(`rldg ...` through the CLI's main), refuses a path holding a file and a dataset it did not write,
with --force too, and leaves every byte there as it was; an output inside or around its own input
is refused as well."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from rldg_data.cli import main


def tree_digest(path: Path) -> str:
    """SHA-256 over every name and every file's bytes under `path` (or of the file itself)."""
    h = hashlib.sha256()
    items = [path] if path.is_file() else sorted(path.rglob("*"))
    for p in items:
        h.update(str(p.relative_to(path.parent)).encode() + b"\0")
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def occupied(tiny_dataset, tmp_path):
    """A folder holding a user's file and a copy of a dataset (neither written by the command)."""
    path, _ = tiny_dataset
    folder = tmp_path / "occupied"
    folder.mkdir()
    (folder / "keep.txt").write_text("hours of robot time\n")
    shutil.copytree(path.parent, folder / "tiny")
    return folder


def refused(argv: list[str], target: Path, capsys) -> str:
    """Runs `rldg argv`; asserts exit 2, one error line, and `target` unchanged; returns the line."""
    before = tree_digest(target)
    assert main(argv) == 2, argv
    text = capsys.readouterr().err
    err = [line for line in text.splitlines() if "error:" in line]
    assert len(err) == 1 and "Traceback" not in text, text
    assert tree_digest(target) == before, f"{argv} changed {target}"
    return err[0]


def both(argv: list[str], target: Path, capsys) -> str:
    """Refused without and with --force."""
    refused(argv, target, capsys)
    return refused(argv + ["--force"], target, capsys)


def test_report_refuses(tiny_dataset, occupied, capsys):
    path, _ = tiny_dataset
    assert "not written by rldg" in both(["report", str(path), "--out", str(occupied)], occupied, capsys)
    assert "overlaps the input" in refused(["report", str(path), "--out", str(path / "rep")], path.parent, capsys)


def test_report_force_replaces_only_its_own(tiny_dataset, tmp_path, capsys):
    path, _ = tiny_dataset
    out = tmp_path / "rep"
    assert main(["report", str(path), "--out", str(out), "--video", "none"]) == 0
    assert "pass --force" in refused(["report", str(path), "--out", str(out)], out, capsys)
    assert main(["report", str(path), "--out", str(out), "--video", "none", "--force"]) == 0
    (out / "notes.md").write_text("mine")
    assert "did not write (notes.md)" in refused(["report", str(path), "--out", str(out), "--force"], out, capsys)


def test_pack_refuses_a_file_it_did_not_write(tiny_dataset, occupied, capsys):
    path, _ = tiny_dataset
    keep = occupied / "keep.txt"
    assert "not written by `rldg pack`" in both(["pack", str(path.parent), str(keep)], occupied, capsys)
    assert "not a file" in both(["pack", str(path.parent), str(occupied)], occupied, capsys)
    assert "overlaps the input" in refused(["pack", str(path.parent), str(path / "x.tar")], path.parent, capsys)


def test_unpack_refuses(tiny_dataset, occupied, tmp_path, capsys):
    path, _ = tiny_dataset
    archive = tmp_path / "tiny.tar"
    assert main(["pack", str(path.parent), str(archive)]) == 0
    capsys.readouterr()
    assert "not written by rldg" in both(["unpack", str(archive), str(occupied)], occupied, capsys)
    dest = tmp_path / "arrived"
    assert main(["unpack", str(archive), str(dest)]) == 0
    assert main(["unpack", str(archive), str(dest), "--force"]) == 0  # its own earlier output


def test_collect_refuses(occupied, capsys):
    argv = ["collect", "--task", "insertion", "--variant", "vga", "--policy", "expert", "--episodes", "1",
            "--out", str(occupied)]
    assert "not written by rldg" in refused(argv, occupied, capsys)
    assert "not written by rldg" in refused(argv + ["--append"], occupied, capsys)


def test_mix_refuses(tiny_dataset, occupied, tmp_path, capsys):
    path, _ = tiny_dataset
    recipe = tmp_path / "occupied.yaml"
    recipe.write_text(f"name: tiny\nseed: 0\nsources:\n  a: {{path: {path}}}\n")
    assert "already holds files" in both(["mix", str(recipe), "--data-dir", str(occupied)], occupied, capsys)
    (tmp_path / "file").write_text("x")
    refused(["mix", str(recipe), "--data-dir", str(path)], path.parent, capsys)  # inside the source


def test_generalist_train_refuses(tiny_dataset, occupied, capsys):
    path, _ = tiny_dataset
    argv = ["generalist", "train", "--dataset", str(path), "--steps", "1", "--out"]
    assert "not written by rldg" in both(argv + [str(occupied)], occupied, capsys)
    assert "overlaps the input" in refused(argv + [str(path)], path.parent, capsys)


def test_specialist_train_refuses(occupied, capsys):
    argv = ["specialist", "train", "--task", "insertion", "--variant", "vga", "--out", str(occupied)]
    assert "not written by rldg" in both(argv, occupied, capsys)


def test_demo_refuses(occupied, capsys):
    assert "not written by rldg" in refused(["demo", "--profile", "tiny", "--out", str(occupied)], occupied, capsys)


def test_import_refuses(occupied, tmp_path, capsys):
    target = occupied / "hil_serl" / "1.0.0"
    shutil.copytree(occupied / "tiny" / "1.0.0", target)
    argv = ["import", "hil-serl", str(tmp_path / "demo.pkl"), "--trust-pickle", "--out", str(occupied)]
    assert "already holds files" in both(argv, occupied, capsys)


def test_evaluations_refuse_a_result_file_they_did_not_write(occupied, capsys):
    keep = occupied / "keep.txt"  # checked before the checkpoint is opened or an episode runs
    for argv in (["generalist", "eval", "--checkpoint", "nowhere", "--task", "insertion", "--out"],
                 ["specialist", "eval", "nowhere", "--out"]):
        assert "not written by `rldg" in both(argv + [str(keep)], occupied, capsys)
        assert "not a file" in both(argv + [str(occupied)], occupied, capsys)
