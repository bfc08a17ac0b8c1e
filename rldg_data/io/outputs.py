"""Output folders a command may write: new or empty ones, or, with --force, its own earlier output.

Every command that takes an output folder (`rldg finetune`, `rldg export`, `rldg report`, ...)
claims it through `output_dir`: the folder is staged beside the target and published by one
rename (`io.atomic.staged_dir`), and it carries a mark (`.rldg-output.json`) naming the command
that wrote it and the files it wrote. A later run refuses a folder that holds anything without that command's mark, a
file in place of the folder, and any path inside or around its own inputs; `--force` replaces only
a folder the same command wrote, and only while it holds nothing else. So no command deletes what it did not write.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator, Optional, Sequence

from rldg_data.errors import UnsafeInputError
from rldg_data.io.atomic import staged_dir

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


def check_output(out: str | os.PathLike, command: str, *, force: bool = False,
                 inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """`out` as a Path if `command` may write it; UnsafeInputError saying why not otherwise."""
    out = Path(out)
    resolved = out.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if resolved == source or source in resolved.parents or resolved in source.parents:
            raise UnsafeInputError(f"{out} overlaps the input {given}: give --out a folder outside it")
    if not out.exists() and not out.is_symlink():
        return out
    if not out.is_dir() or out.is_symlink():
        raise UnsafeInputError(f"{out} exists and is not a folder: refusing to replace it; "
                               "give --out a new or empty folder")
    if not any(out.iterdir()):
        return out
    owner = writer_of(out)
    if owner != command:
        what = f"written by `{owner}`" if owner else "not written by rldg"
        raise UnsafeInputError(f"{out} already holds files ({what}): refusing to replace them; "
                               "give --out a new or empty folder")
    if not force:
        raise UnsafeInputError(f"{out} holds an earlier `{command}` output: pass --force to replace it, "
                               "or give --out a new folder")
    extra = sorted(_tree(out) - set(read_mark(out).get("files", [])))
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise UnsafeInputError(f"{out} holds files `{command}` did not write ({shown}): --force "
                               "replaces only its own output; move them away or give --out a new folder")
    return out


@contextlib.contextmanager
def output_dir(out: str | os.PathLike, command: str, *, force: bool = False,
               inputs: Sequence[str | os.PathLike] = ()) -> Iterator[Path]:
    """Checks `out` (check_output), yields a staged folder, and publishes it as `out` on success.

    The mark (with the list of files written) goes into the staged folder last, so the published
    folder always carries it; files added later (a training run's checkpoints) are not the
    command's, and `--force` refuses to delete them. On an exception nothing under `out` changes.
    """
    out = check_output(out, command, force=force, inputs=inputs)
    with staged_dir(out) as tmp:
        yield tmp
        (tmp / MARK).write_text(json.dumps({
            "command": command, "files": sorted(_tree(tmp))}, indent=2))  # no time: same input, same bytes
        # Re-checked at publish time: another process may have filled `out` meanwhile.
        check_output(out, command, force=force, inputs=inputs)
