"""What every trainer export needs: a valid contract dataset, its TFDS name and its validation split."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from rldg_data.errors import ContractError
from rldg_data.io.reader import DatasetFiles, open_dataset
from rldg_data.validation.validate import validate_dataset


def require_contract_dataset(dataset: str | os.PathLike, target: str) -> DatasetFiles:
    """The dataset's files if it is a valid contract dataset; ContractError naming what is wrong.

    An export for a trainer is only as good as its data: a dataset of other features, or one that
    breaks the contract, is refused before anything is written (`rldg validate` shows it all).
    """
    files = open_dataset(dataset)
    if files.spec is None:
        raise ContractError(f"not a contract dataset ({files.spec_error}); the {target} export reads "
                            "datasets written by `tfds build builders/...`, `rldg mix` or `rldg import`",
                            file=str(files.path / "features.json"),
                            hint=f"check it with `rldg validate {files.path}`")
    report = validate_dataset(files.path, max_violations=3)
    if not report.ok:
        first = report.violations[0]
        raise ContractError(f"not a valid contract dataset ({len(report.violations)}+ violations; "
                            f"first: {first}); the {target} export refuses it", file=str(files.path),
                            hint=f"see all with `rldg validate {files.path}`")
    return files


def fallback_val_episodes(files: DatasetFiles) -> Optional[int]:
    """Episodes in `train[95%:]`, the validation split Octo and OpenVLA take when a dataset has no
    `val` split (TFDS rounds percent slices to the closest episode); None when it has one."""
    if "val" in files.shard_lengths:
        return None
    n = sum(files.shard_lengths.get("train", []))
    return n - int(round(95 * n / 100))


def val_note(files: DatasetFiles, consumer: str, fails: str) -> str:
    """One README sentence on the validation split `consumer` will read (and if it will fail)."""
    count = fallback_val_episodes(files)
    if count is None:
        return f"{consumer} validates on the dataset's `val` split."
    note = (f"The dataset has no `val` split: {consumer}'s validation takes the last 5% of `train` "
            f"(`train[95%:]`), {count} episode(s) here.")
    if count == 0:
        note += (f" That is empty: TFDS refuses it (\"Instruction [] corresponds to no data\"), so {fails}. "
                 "Give the dataset a `val` split (a recipe's `val_fraction`) or at least 11 episodes.")
    return note


def tfds_location(files: DatasetFiles) -> tuple[str, Path]:
    """(name, data_dir) with which `tfds.builder(name, data_dir=data_dir)` opens this dataset.

    A dataset built with a builder config lives at DATA/<builder>/<config>/<version> and is named
    "<builder>/<config>" under DATA; one without (`rldg mix`, `rldg import`) at DATA/<name>/<version>.
    The version is pinned ("name:version"), so a newer build beside it is not read instead.
    """
    info = json.loads((files.path / "dataset_info.json").read_text())
    version_dir = files.path.resolve()
    config = info.get("configName")
    if config and version_dir.parent.name == config:
        builder_dir = version_dir.parent.parent
        return f"{builder_dir.name}/{config}:{version_dir.name}", builder_dir.parent
    return f"{version_dir.parent.name}:{version_dir.name}", version_dir.parent.parent
