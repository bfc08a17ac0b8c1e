"""Output folders a command may write: new or empty ones, or, with --force, its own earlier output.

Every command that takes an output folder (`rldg finetune`, `rldg export`, `rldg report`, ...)
claims it through `output_dir`: the folder is staged beside the target and published by one
rename (`io.atomic.staged_dir`), and it carries a mark (`.rldg-output.json`) naming the command
that wrote it and the files it wrote. A later run refuses a folder that holds anything without that command's mark, a
file in place of the folder, and any path inside or around its own inputs; `--force` replaces only
a folder the same command wrote, and only while it holds nothing else. So no command deletes what it did not write.
Datasets are published the same way (`publish_output`, used by `io.writer.publish`); folders a
command adds to across runs (a collector's logs, the demo's run folder) are claimed by
`claim_work_folder`; single files (`rldg pack`'s archive, the evaluations' result JSON) by `check_output_file`. Without --force a
folder is published by one rename(2) that fails when another process published first, so of two
writers racing for one name exactly one wins and the other is told why.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
import shutil
from typing import Callable, Iterator, Optional, Sequence

from rldg_data.errors import OutputRefusedError
from rldg_data.io.space import space_errors
from rldg_data.io.atomic import publish_new_dir, replace_dir, temp_name, write_json_atomic

MARK = ".rldg-output.json"


def read_mark(folder: str | os.PathLike) -> dict:
    """The mark `folder` holds ({command, files}), or {} where there is none."""
    try:
        mark = json.loads((Path(folder) / MARK).read_text())
    except (OSError, ValueError):
        return {}
    return mark if isinstance(mark, dict) else {}


def writer_of(folder: str | os.PathLike) -> Optional[str]:
    """The command whose mark `folder` holds, or None."""
    return read_mark(folder).get("command")


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()} - {MARK}


def check_inputs(out: str | os.PathLike, inputs: Sequence[str | os.PathLike]) -> None:
    """OutputRefusedError when `out` is one of `inputs`, inside one, or holds one."""
    resolved = Path(out).resolve()
    for given in inputs:
        source = Path(given).resolve()
        if resolved == source or source in resolved.parents or resolved in source.parents:
            raise OutputRefusedError(f"{out} overlaps the input {given}: give the output a path outside it")


def check_output(out: str | os.PathLike, command: str, *, force: bool = False,
                 inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """`out` as a Path if `command` may write it; UnsafeInputError saying why not otherwise."""
    out = Path(out)
    check_inputs(out, inputs)
    if not out.exists() and not out.is_symlink():
        return out
    if not out.is_dir() or out.is_symlink():
        raise OutputRefusedError(f"{out} exists and is not a folder: refusing to replace it; "
                               "give a new or empty folder")
    if not any(out.iterdir()):
        return out
    owner = writer_of(out)
    if owner != command:
        what = f"written by `{owner}`" if owner else "not written by rldg"
        raise OutputRefusedError(f"{out} already holds files ({what}): refusing to replace them; "
                               "give a new or empty folder")
    if not force:
        raise OutputRefusedError(f"{out} already exists (an earlier `{command}` output): pass --force to "
                                 "replace it, or give a new path")
    extra = sorted(_tree(out) - set(read_mark(out).get("files", [])))
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise OutputRefusedError(f"{out} holds files `{command}` did not write ({shown}): --force "
                               "replaces only its own output; move them away or give a new folder")
    return out


def write_mark(folder: str | os.PathLike, command: str) -> None:
    """Writes the mark naming `command` and every file now under `folder` (call it last)."""
    folder = Path(folder)
    (folder / MARK).write_text(json.dumps(
        {"command": command, "files": sorted(_tree(folder))}, indent=2))  # no time: same input, same bytes


def publish_output(tmp: str | os.PathLike, out: str | os.PathLike, command: str, *, force: bool = False,
                   inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """Marks the finished folder `tmp` as `command`'s and publishes it as `out`.

    `out` is checked again here (another process may have filled it since the command started);
    without `force` the publishing rename fails if anything appeared at `out` meanwhile, so a race
    between two writers leaves exactly one output and an OutputRefusedError for the other.
    """
    out = Path(out)
    write_mark(tmp, command)
    check_output(out, command, force=force, inputs=inputs)
    if force and out.exists():
        return replace_dir(tmp, out)
    try:
        return publish_new_dir(tmp, out)
    except FileExistsError:
        raise OutputRefusedError(f"{out} already exists: another process wrote it while `{command}` ran; "
                                 "its output was kept and this one discarded") from None


@contextlib.contextmanager
def output_dir(out: str | os.PathLike, command: str, *, force: bool = False,
               inputs: Sequence[str | os.PathLike] = ()) -> Iterator[Path]:
    """Checks `out` (check_output), yields a staged folder, and publishes it as `out` on success.

    The mark (with the list of files written) goes into the staged folder last, so the published
    folder always carries it; files added later (a training run's checkpoints) are not the
    command's, and `--force` refuses to delete them. On an exception nothing under `out` changes.
    """
    out = check_output(out, command, force=force, inputs=inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(out)
    tmp.mkdir()
    try:
        with space_errors(out, f"`{command}` output"):
            yield tmp
            publish_output(tmp, out, command, force=force, inputs=inputs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def claim_work_folder(out: str | os.PathLike, command: str, manifest: str,
                      inputs: Sequence[str | os.PathLike] = (), create: bool = True) -> Path:
    """Claims `out` for a command that adds to its own folder across runs (collect, demo).

    New or empty: marked as `command`'s. Holding `manifest` (the command's own record) or the
    command's mark: accepted as the command's earlier work. Anything else is refused, as is a file
    in place of the folder and a folder overlapping the inputs. `create=False` only checks.
    """
    out = Path(out)
    check_inputs(out, inputs)
    if out.exists() and not out.is_dir():
        raise OutputRefusedError(f"{out} exists and is not a folder: refusing to replace it; give a new or empty folder")
    # Our own bookkeeping (the mark, its temporary, the write lock) is not "other files": two runs
    # claiming one new folder at once both get here, and the lock decides between them.
    ours = {MARK, ".rldg-lock"}
    if out.is_dir() and any(p.name not in ours and not p.name.startswith(".tmp-") for p in out.iterdir()):
        owner = writer_of(out)
        if owner == command or (owner is None and (out / manifest).is_file()):
            return out
        what = f"written by `{owner}`" if owner else "not written by rldg"
        raise OutputRefusedError(f"{out} already holds files ({what}): refusing to write `{command}` output "
                                 "among them; give a new or empty folder")
    if not create:
        return out
    out.mkdir(parents=True, exist_ok=True)
    if writer_of(out) != command:
        write_json_atomic(out / MARK, {"command": command, "files": []})
    return out


def json_holding(keys: Sequence[str]) -> Callable[[Path], bool]:
    """An `is_own` test for `check_output_file`: the file is a JSON object holding every one of
    `keys` (how a command that writes a result file recognizes its own earlier one)."""
    def holds(path: Path) -> bool:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and all(k in data for k in keys)
    return holds


def check_output_file(out: str | os.PathLike, command: str, *, force: bool = False,
                      is_own: Callable[[Path], bool] = lambda p: False,
                      inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """`out` as a Path if `command` may write that file: new, or (with `force`) a file `is_own`
    recognizes as the command's earlier output. A folder, a link or another file is refused."""
    out = Path(out)
    check_inputs(out, inputs)
    if not out.exists() and not out.is_symlink():
        return out
    if out.is_symlink() or not out.is_file():
        raise OutputRefusedError(f"{out} exists and is not a file `{command}` wrote: refusing to replace it; "
                                 "give a new path")
    if not is_own(out):
        raise OutputRefusedError(f"{out} already exists and was not written by `{command}`: refusing to "
                                 "replace it; give a new path")
    if not force:
        raise OutputRefusedError(f"{out} already exists (an earlier `{command}` output): pass --force to "
                                 "replace it, or give a new path")
    return out
