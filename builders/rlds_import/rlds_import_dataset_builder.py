"""rlds_import: any RLDS dataset on disk (e.g. Open X-Embodiment) as an RLDS dataset of the contract.

    tfds build builders/rlds_import --data_dir D --config '{"name": "fractal", "mapping": "fractal.yaml"}'
    tfds build builders/rlds_import --data_dir D --manual_dir DIR   # DIR/mapping.yaml
    tfds build builders/rlds_import --data_dir D --config '{"name": "fractal",
        "mapping": "builders/rlds_import/mappings/fractal.yaml", "dataset": "/data/fractal20220817_data/0.1.0"}'

The mapping YAML names the source folder (read with `tfds.builder_from_directory`) and where each
contract field is in it (`rldg_data.imports.rlds`); steps are `human` unless mapped otherwise.
Every mapped key is checked against the source's features before anything is written. The builder
base (`rldg_data.io.builder_base`) checks every episode, refuses repeated ids, records the inputs
(the mapping and the source dataset's files) and refuses to reuse a dataset built from others.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import tensorflow_datasets as tfds

from rldg_data.contract import spec as contract
from rldg_data.imports.rlds import RldsMapping, RldsSource
from rldg_data.io.builder_base import ContractBuilder, builder_config, file_sha256
from rldg_data.io.tfds_build import files_fingerprint

MAPPING_FILE = "mapping.yaml"

RldsImportConfig = builder_config(
    "RldsImportConfig", "rlds_import", module=__name__,
    extra=[("mapping", Optional[str], dataclasses.field(default=None)),
           ("dataset", Optional[str], dataclasses.field(default=None))],
    doc="mapping: the mapping YAML file (else --manual_dir/mapping.yaml); dataset: the source folder, "
        "replacing the mapping's `dataset` (for the shipped mappings in mappings/).")


class Builder(ContractBuilder):
    """Episodes of another RLDS dataset, mapped onto the RLDS contract."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = RldsImportConfig
    BUILDER_CONFIGS = [RldsImportConfig(name="default", description="--manual_dir/mapping.yaml")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"Pass a folder holding {MAPPING_FILE} as --manual_dir, or --config with a mapping."
    HOMEPAGE = "https://github.com/google-research/rlds"

    def _find_inputs(self, manual_dir) -> Optional[RldsSource]:
        mapping = self.builder_config.mapping or (Path(manual_dir) / MAPPING_FILE if manual_dir else None)
        return RldsSource(RldsMapping.load(mapping, self.builder_config.dataset)) if mapping else None

    def _inputs_spec(self, source: RldsSource) -> contract.DatasetSpec:
        return source.dataset_spec()

    def _inputs_record(self, source: RldsSource) -> dict:
        root = Path(source.mapping.dataset)
        files = [p for p in root.iterdir() if p.is_file()]
        record = files_fingerprint(root, files, {"mapping": file_sha256(source.mapping.file),
                                                 "dataset_info": file_sha256(root / "dataset_info.json")})
        record["description"] = f"{source.mapping.dataset} through mapping {source.mapping.file}"
        return record

    def _episodes(self, source: RldsSource, part):
        for index, episode in enumerate(source.iter_episodes()):
            yield episode, f"{source.mapping.dataset} episode #{index}"
