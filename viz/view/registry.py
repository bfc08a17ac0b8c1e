"""Where running viewers say what they serve, so `rldg report` can link samples to them.

A viewer writes `<runtime dir>/rldg-view/<pid>.json` ({url, pid, datasets: [version folders]})
when it starts and removes it when it stops. `find_viewer(dataset)` returns the URL of a live
viewer (its process exists) serving that dataset folder, or None. The runtime dir is
$RLDG_VIEW_REGISTRY, else $XDG_RUNTIME_DIR, else ~/.cache.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.io.atomic import write_json_atomic


def registry_dir() -> Path:
    explicit = os.environ.get("RLDG_VIEW_REGISTRY")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_RUNTIME_DIR") or str(Path.home() / ".cache")
    return Path(base) / "rldg-view"


def announce(url: str, datasets: Sequence[str | os.PathLike]) -> Path:
    """Records this process as a viewer of `datasets` at `url`; returns the file to remove."""
    folder = registry_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.json"
    write_json_atomic(path, {"url": url, "pid": os.getpid(),
                             "datasets": [str(Path(d).resolve()) for d in datasets]})
    return path


def withdraw(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_viewer(dataset: str | os.PathLike) -> Optional[str]:
    """URL of a running viewer that serves the dataset version folder `dataset`, or None."""
    folder = registry_dir()
    target = str(Path(dataset).resolve())
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(path.read_text())
            pid, url, served = int(entry["pid"]), str(entry["url"]), list(entry["datasets"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid) and target in served:
            return url
    return None
