"""`rldg pack` / `unpack` / `verify`: a shared dataset arrives whole, checked, and safe to open."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from rldg_data.cli import main
from rldg_data.errors import DatasetError, UnsafeInputError
from rldg_data.io.reader import read_episodes
from rldg_data.sharing.archive import MANIFEST, pack_dataset, unpack_archive, verify_dataset


@pytest.fixture
def shared(tiny_dataset, tmp_path):
    """A tiny dataset with a card and statistics beside it, packed into an archive."""
    path, episodes = tiny_dataset
    root = path.parent
    (root / "README.md").write_text("# tiny\nA card.\n")
    from rldg_data.stats.dataset import dataset_statistics

    (root / "dataset_statistics.json").write_text(json.dumps(dataset_statistics(path)))
    (root / "recipe.yaml").write_text("name: tiny\nseed: 0\n")
    archive = pack_dataset(root, tmp_path / "tiny.tar")
    return root, archive, episodes


def _members(archive):
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def _rewrite(archive, out, change):
    """A copy of `archive` with members changed by `change(name, data) -> data | None`."""
    with tarfile.open(out, "w") as tar:
        for name, data in _members(archive).items():
            data = change(name, data)
            if data is not None:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out


def test_roundtrip_keeps_every_file_and_episode(shared, tmp_path, capsys):
    root, archive, episodes = shared
    names = _members(archive)
    assert MANIFEST in names and "README.md" in names and "recipe.yaml" in names
    assert "dataset_statistics.json" in names and "1.0.0/dataset_info.json" in names
    dest = tmp_path / "got" / "tiny"
    assert main(["unpack", str(archive), str(dest)]) == 0
    assert (dest / "README.md").read_text() == "# tiny\nA card.\n"
    assert [e.episode_id for e in read_episodes(dest)] == [e.episode_id for e in episodes]
    assert main(["verify", str(dest)]) == 0
    assert "OK: checksums, contract and digest all match" in capsys.readouterr().out
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".")]


def test_manifest_works_with_sha256sum_format(shared):
    _, archive, _ = shared
    members = _members(archive)
    lines = members[MANIFEST].decode().splitlines()
    assert len(lines) == len(members) - 1
    for line in lines:
        digest, rel = line.split("  ", 1)
        assert hashlib.sha256(members[rel]).hexdigest() == digest


def test_same_dataset_packs_to_same_bytes(shared, tmp_path):
    root, archive, _ = shared
    again = pack_dataset(root, tmp_path / "again.tar")
    assert archive.read_bytes() == again.read_bytes()


def test_gzip_archive_roundtrip(shared, tmp_path):
    root, _, episodes = shared
    archive = pack_dataset(root, tmp_path / "tiny.tar.gz")
    dest = unpack_archive(archive, tmp_path / "gz")
    assert len(read_episodes(dest)) == len(episodes)


def test_unpack_never_replaces_what_it_did_not_write(shared, tmp_path, capsys):
    _, archive, _ = shared
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")
    for force in ([], ["--force"]):
        assert main(["unpack", *force, str(archive), str(dest)]) == 2
        assert "not written by rldg" in capsys.readouterr().err and (dest / "mine.txt").read_text() == "keep me"
    ours = tmp_path / "ours"
    assert main(["unpack", str(archive), str(ours)]) == 0
    assert main(["unpack", str(archive), str(ours)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["unpack", "--force", str(archive), str(ours)]) == 0 and (ours / "1.0.0").is_dir()


def test_pack_refuses_existing_archive_without_force(shared, capsys):
    root, archive, _ = shared
    assert main(["pack", str(root), str(archive)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["pack", "--force", str(root), str(archive)]) == 0


@pytest.mark.parametrize("damage", ["flip", "drop", "extra"])
def test_altered_archive_is_refused_and_old_dataset_kept(shared, tmp_path, damage, capsys):
    _, archive, _ = shared
    shard = next(n for n in _members(archive) if ".tfrecord-" in n)

    def change(name, data):
        if name == shard and damage == "flip":
            return data[:100] + bytes([data[100] ^ 1]) + data[101:]
        if name == shard and damage == "drop":
            return None
        return data

    bad = _rewrite(archive, tmp_path / "bad.tar", change)
    if damage == "extra":
        with tarfile.open(bad, "a") as tar:
            info = tarfile.TarInfo("1.0.0/surprise.py")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"x=1\n"))
    dest = unpack_archive(archive, tmp_path / "dest")  # a good copy already there
    before = sorted(p.name for p in (dest / "1.0.0").iterdir())
    assert main(["unpack", "--force", str(bad), str(dest)]) == 2
    err = capsys.readouterr().err
    want = {"flip": "does not match", "drop": "missing", "extra": "not listed"}[damage]
    assert want in err and (shard.split("/")[-1] in err or "surprise.py" in err)
    assert sorted(p.name for p in (dest / "1.0.0").iterdir()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _evil_archive(path, member: tarfile.TarInfo, data: bytes = b"") -> str:
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = 0
        tar.addfile(info, io.BytesIO(b""))
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return str(path)


def _member(name, kind=tarfile.REGTYPE, linkname="", size=0):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, size
    return info


@pytest.mark.parametrize("member, words", [
    (_member("../escaped.txt", size=3), "escapes"),
    (_member("1.0.0/../../escaped.txt", size=3), "escapes"),
    (_member("/tmp/absolute.txt", size=3), "absolute"),
    (_member("1.0.0/link", tarfile.SYMTYPE, "/etc/passwd"), "symlink"),
    (_member("1.0.0/rel-link", tarfile.SYMTYPE, "../../outside"), "symlink"),
    (_member("1.0.0/hard", tarfile.LNKTYPE, "/etc/passwd"), "hard link"),
    (_member("1.0.0/dev", tarfile.CHRTYPE), "device"),
    (_member("1.0.0/fifo", tarfile.FIFOTYPE), "fifo"),
])
def test_unsafe_members_are_refused(tmp_path, member, words):
    archive = _evil_archive(tmp_path / "evil.tar", member, b"bad" if member.isfile() else b"")
    dest = tmp_path / "inside" / "dest"
    with pytest.raises(UnsafeInputError) as info:
        unpack_archive(archive, dest)
    assert words in str(info.value) and repr(member.name) in str(info.value)
    assert not dest.exists() and not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "inside" / "escaped.txt").exists()
    assert [p.name for p in (tmp_path / "inside").iterdir()] == []


def test_unsafe_archive_exits_2_from_cli(tmp_path, capsys):
    archive = _evil_archive(tmp_path / "evil.tar", _member("1.0.0/l", tarfile.SYMTYPE, "/etc/passwd"))
    assert main(["unpack", archive, str(tmp_path / "d")]) == 2
    assert "symlink" in capsys.readouterr().err


def test_pack_refuses_a_linked_file(tiny_dataset, tmp_path):
    path, _ = tiny_dataset
    os.symlink("/etc/hostname", path.parent / "README.md")
    with pytest.raises(UnsafeInputError, match="README.md"):
        pack_dataset(path.parent, tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()


def test_not_an_archive(tmp_path):
    bogus = tmp_path / "x.tar"
    bogus.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(DatasetError, match="not a readable tar"):
        unpack_archive(bogus, tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_verify_finds_tampering_after_unpack(shared, tmp_path, capsys):
    _, archive, _ = shared
    dest = unpack_archive(archive, tmp_path / "dest")
    (dest / "README.md").write_text("# edited later\n")
    assert main(["verify", str(dest)]) == 1
    out = capsys.readouterr().out
    assert "README.md" in out and "does not match" in out


def test_verify_finds_digest_mismatch(shared, tmp_path):
    _, archive, _ = shared
    dest = unpack_archive(archive, tmp_path / "dest")
    info_path = dest / "1.0.0" / "rldg_info.json"
    info = json.loads(info_path.read_text())
    info["digest"] = "0" * 64
    info_path.write_text(json.dumps(info))
    report = verify_dataset(dest, check_manifest=False)
    assert not report.ok and "recorded digest" in report.problems[0]
    assert "rldg_info.json" in report.problems[0]
