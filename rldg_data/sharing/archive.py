"""Sharing datasets: pack into one tar with a SHA-256 manifest, unpack safely, verify later.

`pack_dataset` archives a dataset folder (every version folder's shards and TFDS metadata, plus
what sits beside them: dataset_statistics*.json, the card README.md, the recipe) with a
`MANIFEST.sha256` in `sha256sum` format (made in memory: packing leaves the source folder as it
was), so a collaborator can also check it with `sha256sum -c`. `unpack_archive` never trusts the archive: it refuses absolute paths, `..`,
links, devices and fifos (naming the member), streams each file itself (it never calls
`extractall`), checks every checksum and the RLDS contract inside a temporary folder beside the
target, and only then renames it into place. `verify_dataset` re-checks a shared folder months
later: checksums, contract, and the digest recorded in `rldg_info.json`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import uuid
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator, Optional

from rldg_data.errors import ContractError, DatasetError, UnsafeInputError
from rldg_data.io.atomic import atomic_file, write_text_atomic
from rldg_data.io.outputs import check_output, check_output_file
from rldg_data.io.reader import open_dataset, resolve_dataset_dir
from rldg_data.io.records import iter_records
from rldg_data.io.writer import RLDG_INFO_FILE, dataset_digest, publish

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.sha256"
_TEMPORARY = (".", "incomplete.")  # our writers' temporaries, and TFDS's of a killed build
_CHUNK = 1 << 20


@dataclasses.dataclass
class VerifyReport:
    """What `verify_dataset` found: checksum problems and contract violations, each a message."""

    path: str
    files_checked: int = 0
    episodes: int = 0
    digest: str = ""
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "ok": self.ok}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def dataset_root(path: str | os.PathLike) -> Path:
    """The dataset folder (the one holding version folders) of a dataset or version path; a TFDS
    builder folder with one config (`data/rl/rldg_rollouts`) gives that config's folder, as
    `rldg validate` and `rldg show` read it. DatasetError when `path` is no dataset at all."""
    path = Path(path)
    if (path / "dataset_info.json").is_file():
        return path.parent
    return resolve_dataset_dir(path).parent


def _shared_files(root: Path) -> Iterator[Path]:
    """Every file to share under `root`, sorted; temporaries of an interrupted run (hidden
    folders, TFDS's `incomplete.*`) and hidden files are left out; a link is refused, since it could point anywhere."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(_TEMPORARY))
        for name in sorted(filenames):
            if name.startswith(".") or (Path(dirpath) == root and name == MANIFEST):
                continue
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                raise UnsafeInputError(f"{path}: not a regular file (link, device or fifo); "
                                       f"copy the real file into the dataset before packing")
            yield path
        for d in dirnames:
            if (Path(dirpath) / d).is_symlink():
                raise UnsafeInputError(f"{Path(dirpath) / d}: a linked folder; copy it in before packing")


def write_manifest(root: Path) -> dict[str, str]:
    """Writes `root/MANIFEST.sha256` over every shared file; returns {relative path: sha256}."""
    sums = {p.relative_to(root).as_posix(): sha256_file(p) for p in _shared_files(root)}
    write_text_atomic(root / MANIFEST, manifest_text(sums))
    return sums


def manifest_text(sums: dict[str, str]) -> str:
    """`sha256sum` format: one `<hex>  <relative path>` line per file, sorted by path."""
    return "".join(f"{digest}  {rel}\n" for rel, digest in sorted(sums.items()))


def read_manifest(path: Path) -> dict[str, str]:
    """{relative path: sha256} of a MANIFEST.sha256; DatasetError naming the line when malformed."""
    sums: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not rel or rel in sums:
            raise DatasetError(f"{path} line {lineno}: malformed or repeated manifest entry {line!r}")
        _check_member_name(rel, str(path))
        sums[rel] = digest
    return sums


def pack_dataset(
    dataset: str | os.PathLike,
    out: str | os.PathLike,
    *,
    force: bool = False,
    validate: bool = True,
    progress: Optional[Callable[[int], None]] = None,
) -> Path:
    """Packs a dataset folder into the tar `out` (gzip when it ends in .gz/.tgz); returns `out`.

    With `validate`, a dataset breaking the contract is refused (sharing it would spread the
    damage). The tar is written beside `out` under a hidden name and renamed when complete, so an
    interrupted pack leaves no archive; an existing `out` is replaced only with `force`.
    """
    root = dataset_root(dataset)
    out = check_output_file(out, "rldg pack", force=force, is_own=is_pack_archive, inputs=[root])
    if validate:
        report = verify_dataset(root, check_manifest=False)
        if not report.ok:
            raise ContractError(f"refusing to pack a broken dataset: {_summarize(report.problems)}",
                                file=str(root), hint="run `rldg validate` on it")
    sums = {p.relative_to(root).as_posix(): sha256_file(p) for p in _shared_files(root)}
    manifest = manifest_text(sums).encode("utf-8")
    mode = "w:gz" if out.name.endswith((".gz", ".tgz")) else "w"
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as tmp:
        with tarfile.open(tmp, mode, format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, manifest)
            for rel in sorted(sums):
                _add_file(tar, root / rel, rel)
                if progress:
                    progress(1)
    log.info("packed %s (%d files) into %s", root, len(sums), out)
    return out


def is_pack_archive(path: Path) -> bool:
    """Whether `path` is a tar `rldg pack` wrote (its first member is MANIFEST.sha256)."""
    try:
        with tarfile.open(path, "r:*") as tar:
            first = tar.next()
    except (tarfile.TarError, OSError, EOFError):
        return False
    return first is not None and first.name == MANIFEST


def _summarize(problems: list[str]) -> str:
    return problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> None:
    """Adds a regular file with neutral owner and time, so one dataset packs to the same bytes."""
    info = tarfile.TarInfo(arcname)
    info.size = path.stat().st_size
    info.mode = 0o644
    info.mtime = 0
    with open(path, "rb") as f:
        tar.addfile(info, f)


def _add_bytes(tar: tarfile.TarFile, arcname: str, data: bytes) -> None:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def _check_member_name(name: str, archive: str) -> PurePosixPath:
    pure = PurePosixPath(name)
    if not name or name.startswith(("/", "\\")) or pure.is_absolute() or ":" in pure.parts[0]:
        raise UnsafeInputError(f"{archive}: member {name!r} has an absolute path; refusing to unpack")
    if ".." in pure.parts or "\\" in name or "\0" in name:
        raise UnsafeInputError(f"{archive}: member {name!r} escapes the target folder ('..'); "
                               f"refusing to unpack")
    return pure


def check_member(member: tarfile.TarInfo, archive: str, dest: Path) -> PurePosixPath:
    """The safe relative path of `member`, or UnsafeInputError naming it.

    Only regular files and folders pass; links, hard links, devices and fifos are refused, as are
    absolute names and `..`. Python's `tarfile.data_filter` (where present) must agree too.
    """
    pure = _check_member_name(member.name, archive)
    kind = ("symlink" if member.issym() else "hard link" if member.islnk() else
            "device" if member.ischr() or member.isblk() else "fifo" if member.isfifo() else
            None if member.isfile() or member.isdir() else "special file")
    if kind:
        raise UnsafeInputError(f"{archive}: member {member.name!r} is a {kind}; refusing to unpack")
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is not None:
        try:
            data_filter(member, str(dest))
        except tarfile.FilterError as exc:
            raise UnsafeInputError(f"{archive}: member {member.name!r} refused: {exc}") from exc
    return pure


def unpack_archive(
    archive: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    force: bool = False,
    progress: Optional[Callable[[int], None]] = None,
) -> Path:
    """Unpacks a `pack_dataset` archive into the dataset folder `dest`; returns `dest`.

    Nothing appears at `dest` unless every member is safe, every manifest checksum matches, no
    file is missing or unlisted, and the dataset passes the contract. An existing `dest` is
    replaced only with `force` (and stays intact when anything fails).
    """
    archive, dest = Path(archive), Path(dest)
    check_output(dest, "rldg unpack", force=force, inputs=[archive])
    if not archive.is_file():
        raise DatasetError(f"{archive}: no such archive")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".tmp-unpack-{dest.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        sums = _extract_checked(archive, tmp, progress)
        checked = VerifyReport(path=str(tmp))
        _compare_sums(tmp, sums, checked)  # checksums first: a damaged file explains the rest
        if checked.ok:
            checked = verify_dataset(tmp, check_manifest=False)
        if not checked.ok:
            raise ContractError(f"archive content is not a sound dataset: {_summarize(checked.problems)}",
                                file=str(archive), hint="nothing was unpacked; ask for a fresh copy")
        return publish(tmp, dest, force, "rldg unpack", [archive])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract_checked(archive: Path, tmp: Path, progress) -> dict[str, str]:
    """Streams every member into `tmp` after the safety checks; returns {path: sha256 computed}."""
    computed: dict[str, str] = {}
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DatasetError(f"{archive}: not a readable tar archive ({exc})") from exc
    with tar:
        try:
            for member in tar:
                pure = check_member(member, str(archive), tmp)
                target = tmp.joinpath(*pure.parts)
                if not target.resolve().is_relative_to(tmp.resolve()):
                    raise UnsafeInputError(f"{archive}: member {member.name!r} escapes the target folder")
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                rel = pure.as_posix()
                if rel in computed:
                    raise UnsafeInputError(f"{archive}: member {member.name!r} appears twice; refusing to unpack")
                target.parent.mkdir(parents=True, exist_ok=True)
                computed[rel] = _copy_member(tar, member, target)
                if progress:
                    progress(1)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise DatasetError(f"{archive}: damaged archive ({exc})") from exc
    if MANIFEST not in computed:
        raise DatasetError(f"{archive}: no {MANIFEST} in the archive; not made by `rldg pack`")
    return computed


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> str:
    h = hashlib.sha256()
    source = tar.extractfile(member)
    assert source is not None  # regular file, checked above
    with source, open(target, "xb") as out:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            h.update(chunk)
            out.write(chunk)
    os.chmod(target, 0o644)
    return h.hexdigest()


def _compare_sums(root: Path, computed: dict[str, str], report: VerifyReport) -> None:
    """Adds to `report` every file whose checksum differs from the manifest, is missing or extra."""
    listed = read_manifest(root / MANIFEST)
    for rel, digest in sorted(listed.items()):
        got = computed.get(rel)
        if got is None:
            report.problems.append(f"file {root / rel}: listed in {MANIFEST} but missing")
        elif got != digest:
            report.problems.append(f"file {root / rel}: SHA-256 {got[:12]}… does not match "
                                   f"{MANIFEST} ({digest[:12]}…): the file was altered or damaged")
    for rel in sorted(set(computed) - set(listed) - {MANIFEST}):
        report.problems.append(f"file {root / rel}: not listed in {MANIFEST}")
    report.files_checked = len(listed)


def recompute_digest(version_dir: str | os.PathLike) -> tuple[str, int]:
    """(digest, episodes) of a dataset from its records, as `writer.dataset_digest` defines it."""
    from rldg_data.io.codec import decode_episode

    files = open_dataset(version_dir)
    pairs = []
    for split, shard_list in files.shards.items():
        for shard, count in zip(shard_list, files.shard_lengths[split]):
            for _, record in iter_records(shard, count):
                episode = decode_episode(record, file=str(shard), decode_image_fields=False)
                pairs.append((episode.episode_id, hashlib.sha256(record).hexdigest()))
    return dataset_digest(pairs), len(pairs)


def verify_dataset(path: str | os.PathLike, *, check_manifest: bool = True) -> VerifyReport:
    """Re-checks a shared dataset folder: manifest checksums (unless `check_manifest` is False),
    every version against the RLDS contract, and the digest recorded in its rldg_info.json."""
    from rldg_data.validation.validate import validate_dataset

    root = dataset_root(path)
    report = VerifyReport(path=str(root))
    if check_manifest:
        if not (root / MANIFEST).is_file():
            report.problems.append(f"file {root / MANIFEST}: missing (not a packed dataset; "
                                   f"`rldg pack` writes it)")
        else:
            computed = {p.relative_to(root).as_posix(): sha256_file(p) for p in _shared_files(root)}
            _compare_sums(root, computed, report)
    versions = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(_TEMPORARY)
                      and (p / "dataset_info.json").is_file())
    if not versions:
        report.problems.append(f"file {root}: no version folder with dataset_info.json")
    for version in versions:
        result = validate_dataset(version)
        report.episodes += result.summary.episodes
        report.problems.extend(str(v) for v in result.violations)
        info_path = version / RLDG_INFO_FILE
        if result.ok and info_path.is_file():
            _check_digest(version, info_path, report)
    return report


def _check_digest(version: Path, info_path: Path, report: VerifyReport) -> None:
    try:
        recorded = json.loads(info_path.read_text()).get("digest")
    except (OSError, json.JSONDecodeError) as exc:
        report.problems.append(f"file {info_path}: unreadable ({exc})")
        return
    digest, _ = recompute_digest(version)
    report.digest = digest
    if recorded and recorded != digest:
        report.problems.append(f"file {info_path}: recorded digest {recorded[:12]}… but the records "
                               f"give {digest[:12]}…: episodes were changed after the build")

