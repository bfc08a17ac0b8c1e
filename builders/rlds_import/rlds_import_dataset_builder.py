"""rlds_import: any RLDS dataset on disk (e.g. Open X-Embodiment) as an RLDS dataset of the contract.

    tfds build builders/rlds_import --data_dir D --config '{"name": "fractal", "mapping": "fractal.yaml"}'
    tfds build builders/rlds_import --data_dir D --manual_dir DIR   # DIR/mapping.yaml

The mapping YAML names the source folder (read with `tfds.builder_from_directory`) and where each
contract field is in it (`rldg_data.imports.rlds`); steps are `human` unless mapped otherwise.
Every mapped key is checked against the source's features before anything is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import tensorflow_datasets as tfds

from rldg_data.contract import spec as contract
from rldg_data.contract import tfds_json
from rldg_data.imports.rlds import RldsMapping, RldsSource
from rldg_data.io.codec import features_dict
from rldg_data.io.tfds_build import AtomicRebuild

MAPPING_FILE = "mapping.yaml"


@dataclasses.dataclass
class RldsImportConfig(tfds.core.BuilderConfig):
    """mapping: the mapping YAML file (else --manual_dir/mapping.yaml)."""

    mapping: Optional[str] = None


class Builder(AtomicRebuild, tfds.core.GeneratorBasedBuilder):
    """Episodes of another RLDS dataset, mapped onto the RLDS contract."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = RldsImportConfig
    BUILDER_CONFIGS = [RldsImportConfig(name="default", description="--manual_dir/mapping.yaml")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"Pass a folder holding {MAPPING_FILE} as --manual_dir, or --config with a mapping."

    _source: Optional[RldsSource] = None

    def _open(self, mapping_file) -> None:
        self._source = RldsSource(RldsMapping.load(mapping_file))

    def _info(self) -> tfds.core.DatasetInfo:
        if self._source is None and self.builder_config.mapping:
            self._open(self.builder_config.mapping)
        data_spec = self._source.dataset_spec() if self._source else contract.DatasetSpec()
        return self.dataset_info_from_configs(features=tfds_json.features_for(data_spec), supervised_keys=None,
                                              homepage="https://github.com/google-research/rlds")

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        manual = getattr(download_config, "manual_dir", None)
        if self._source is None and manual:
            self._open(Path(manual) / MAPPING_FILE)
            self.info._features = tfds_json.features_for(self._source.dataset_spec())  # pylint: disable=protected-access
        return super().download_and_prepare(download_dir=download_dir, download_config=download_config, **kwargs)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        if self._source is None:
            self._open(Path(dl_manager.manual_dir) / MAPPING_FILE)
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for episode in self._source.iter_episodes():
            yield episode.episode_id, features_dict(episode, "jpeg")
