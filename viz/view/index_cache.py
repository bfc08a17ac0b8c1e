"""The viewer's index cache: each shard's table rows kept as JSON, reused while the shard is unchanged.

A cache file per shard (named by a hash of the shard's absolute path) holds a header line (the
shard's size and modification time in ns when indexed, its row count and header problem), then one
JSON line per record: its row (COLUMNS[3:] of `viz.view.index`) and location. Read line by line,
so loading costs no more memory than the rows themselves. `load` returns them only if the shard's size and mtime still match; anything
unreadable or stale is ignored (the shard is indexed again). JSON, not pickle: a cache file is
data, never code. Written with `io.atomic`, so a killed viewer never leaves half a file.
The default folder is $RLDG_VIEW_CACHE, else $XDG_CACHE_HOME/rldg-view, else ~/.cache/rldg-view.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Optional

from rldg_data.io.atomic import write_text_atomic

FORMAT = 2


def default_dir() -> Path:
    explicit = os.environ.get("RLDG_VIEW_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rldg-view"


def _file(cache: Path, shard: str) -> Path:
    digest = hashlib.sha256(os.path.abspath(shard).encode()).hexdigest()[:24]
    return cache / f"{digest}.json"


def _stamp(shard: str) -> Optional[list[int]]:
    try:
        st = os.stat(shard)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def load(cache: Path, shard: str) -> Optional[tuple[list[tuple], list[tuple[int, int]], Optional[str]]]:
    """(row fields, locations, problem) of `shard` from the cache, or None if absent or stale."""
    stamp = _stamp(shard)
    if stamp is None:
        return None
    intern = sys.intern
    fields, locations = [], []
    try:
        with open(_file(cache, shard), encoding="utf-8") as f:
            head = json.loads(f.readline())
            if head.get("format") != FORMAT or head.get("shard") != os.path.abspath(shard) or head.get("stamp") != stamp:
                return None
            for line in f:  # one row a line: no whole-file parse, so memory stays at the rows' own
                r = json.loads(line)
                fields.append((r[0], intern(r[1]), intern(r[2]), intern(r[3]), intern(r[4]), r[5], r[6], r[7],
                               intern(r[8]), tuple((intern(k), int(v)) for k, v in r[9]),
                               tuple(int(s) for s in r[10]), r[11], r[12]))
                locations.append((int(r[13]), int(r[14])))
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    if len(fields) != head.get("rows"):
        return None  # a file cut short
    return fields, locations, head.get("problem")


def save(cache: Path, shard: str, fields: list[tuple], locations: list[tuple[int, int]],
         problem: Optional[str]) -> None:
    """Keeps one shard's rows; a cache that cannot be written is skipped (the viewer still works)."""
    stamp = _stamp(shard)
    if stamp is None:
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        head = {"format": FORMAT, "shard": os.path.abspath(shard), "stamp": stamp, "rows": len(fields),
                "problem": problem}
        lines = [json.dumps(head)] + [json.dumps([*row, *where], separators=(",", ":"))
                                      for row, where in zip(fields, locations)]
        write_text_atomic(_file(cache, shard), "\n".join(lines) + "\n")
    except OSError:
        pass
