"""lerobot_import: a LeRobot v3.0 dataset folder as an RLDS dataset of the contract.

    tfds build builders/lerobot_import --data_dir D --manual_dir LEROBOT_DIR
    tfds build builders/lerobot_import --data_dir D --manual_dir LEROBOT_DIR \
        --config '{"name": "koch", "mapping": "koch_mapping.yaml"}'

The mapping YAML (optional) says what cannot be guessed: which column is the state, which camera is
`image`, how the action maps to [-1, 1] (`rldg_data.imports.lerobot`). The folder is validated
before anything is written; features are sized from it; its fps is kept in metadata.json (so
`rldg export lerobot` writes it back at the same rate). The builder base
(`rldg_data.io.builder_base`) checks every episode, refuses repeated ids, records the inputs (the
folder's files and the mapping) and refuses to reuse a dataset built from another folder or mapping.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple, Optional

import tensorflow_datasets as tfds

from rldg_data.contract import spec as contract
from rldg_data.imports.lerobot import LeRobotMapping, dataset_spec, iter_lerobot_episodes, split_ranges
from rldg_data.imports.lerobot_files import LeRobotFolder, open_lerobot
from rldg_data.io.builder_base import ContractBuilder, builder_config, file_sha256
from rldg_data.io.tfds_build import files_fingerprint

LeRobotImportConfig = builder_config(
    "LeRobotImportConfig", "lerobot_import", module=__name__,
    extra=[("mapping", Optional[str], dataclasses.field(default=None)),
           ("root", Optional[str], dataclasses.field(default=None))],
    doc="mapping: the mapping YAML file (optional); root: the LeRobot folder (instead of --manual_dir).")


class LeRobotInputs(NamedTuple):
    folder: LeRobotFolder
    mapping: LeRobotMapping


class Builder(ContractBuilder):
    """Episodes of a LeRobot v3.0 dataset (parquet + mp4), as contract RLDS episodes."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = LeRobotImportConfig
    BUILDER_CONFIGS = [LeRobotImportConfig(name="default", description="the LeRobot folder in --manual_dir")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = "Pass the LeRobot v3.0 dataset folder (the one holding meta/info.json) as --manual_dir."
    HOMEPAGE = "https://github.com/huggingface/lerobot"

    def _find_inputs(self, manual_dir) -> Optional[LeRobotInputs]:
        root = self.builder_config.root or manual_dir
        if not root:
            return None
        return LeRobotInputs(open_lerobot(root), LeRobotMapping.load(self.builder_config.mapping))

    def _inputs_spec(self, inputs: LeRobotInputs) -> contract.DatasetSpec:
        return dataset_spec(inputs.folder, inputs.mapping)

    def _inputs_record(self, inputs: LeRobotInputs) -> dict:
        root = Path(inputs.folder.root)
        files = [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")]
        mapping = self.builder_config.mapping
        record = files_fingerprint(root, files, {"mapping": file_sha256(mapping) if mapping else None,
                                                 "info_json": file_sha256(root / "meta" / "info.json")})
        record["description"] = f"LeRobot folder {root} ({len(files)} files), mapping {mapping or '(none)'}"
        return record

    def _metadata(self) -> tfds.core.MetadataDict:
        return tfds.core.MetadataDict()

    def _prepare_inputs(self, inputs: LeRobotInputs) -> None:
        self.info.metadata["fps"] = inputs.folder.fps

    def _split_parts(self, inputs: LeRobotInputs) -> dict[str, range]:
        return split_ranges(inputs.folder)

    def _episodes(self, inputs: LeRobotInputs, episodes: range):
        for episode in iter_lerobot_episodes(inputs.folder.root, inputs.mapping, inputs.folder, episodes):
            yield episode, inputs.folder.root
