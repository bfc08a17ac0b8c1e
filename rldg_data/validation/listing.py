"""`rldg ls DATA_DIR`: the datasets in a data folder, read from their metadata alone (no records).

A dataset is any folder, up to four levels below DATA_DIR (`[<data_dir>/]<builder>/<config>/<version>`, as
`tfds build --data_dir` lays them out, or `<name>/<version>` as `rldg` writes them), that holds a
`dataset_info.json`. For each: the builder (TFDS's `name`), its config, the version, episodes per
split (TFDS's shard lengths) and what built it (TFDS's `moduleName`, or our
writer's `rldg_info.json`). Temporaries of interrupted builds (hidden and `incomplete.*` folders)
are left out.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Optional

from rldg_data.errors import DatasetError
from rldg_data.io.writer import RLDG_INFO_FILE


@dataclasses.dataclass(frozen=True)
class ListedDataset:
    """One version folder of a dataset, as `rldg ls` lists it."""

    path: str
    name: str
    config: str
    version: str
    episodes: dict[str, int]
    built_by: str

    @property
    def total(self) -> int:
        return sum(self.episodes.values())


def _skip(name: str) -> bool:
    return name.startswith((".", "incomplete."))


def find_datasets(data_dir: str | os.PathLike, depth: int = 4) -> list[ListedDataset]:
    """Every dataset version folder under `data_dir` (itself included), sorted by path."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        level = len(here.relative_to(root).parts)
        dirnames[:] = sorted(d for d in dirnames if not _skip(d)) if level < depth else []
        if "dataset_info.json" in filenames:
            found.append(_describe(here, root))
            dirnames[:] = []
    return sorted(found, key=lambda d: d.path)


def _describe(folder: Path, root: Path) -> ListedDataset:
    path = folder / "dataset_info.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return ListedDataset(str(folder), folder.parent.name, "", folder.name, {}, f"unreadable: {exc}")
    name = str(info.get("name") or folder.parent.name)
    config = str(info.get("configName") or "")
    if not config and folder.parent.parent != root.parent and folder.parent.name != name:
        config = folder.parent.name
    episodes = {s["name"]: sum(int(x) for x in s.get("shardLengths", [])) for s in info.get("splits", [])}
    return ListedDataset(str(folder), name, config, str(info.get("version") or folder.name), episodes,
                         _built_by(folder, info))


def _built_by(folder: Path, info: dict) -> str:
    module = info.get("moduleName")
    if module:
        return f"tfds build ({module})"
    if (folder / RLDG_INFO_FILE).is_file():
        return "rldg (rldg_data.io.writer)"
    return "unknown"


def format_listing(datasets: list[ListedDataset], data_dir: str | os.PathLike) -> str:
    """A plain-text table: one line per dataset version."""
    if not datasets:
        return f"no datasets under {data_dir} (a dataset is a folder holding dataset_info.json)"
    root = Path(data_dir)
    rows = [("path", "name", "config", "version", "episodes", "built by")]
    for d in datasets:
        split_counts = ", ".join(f"{k}={v}" for k, v in sorted(d.episodes.items()))
        rows.append((os.path.relpath(d.path, root), d.name, d.config or "-", d.version,
                     f"{d.total} ({split_counts})" if split_counts else "0", d.built_by))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows)


def listing_json(datasets: list[ListedDataset]) -> list[dict]:
    return [{**dataclasses.asdict(d), "total_episodes": d.total} for d in datasets]


def describe_one(path: str | os.PathLike) -> Optional[ListedDataset]:
    """The listing line of one version folder (None when it holds no dataset_info.json)."""
    folder = Path(path)
    return _describe(folder, folder.parent) if (folder / "dataset_info.json").is_file() else None
