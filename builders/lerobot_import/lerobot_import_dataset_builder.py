"""lerobot_import: a LeRobot v3.0 dataset folder as an RLDS dataset of the contract.

    tfds build builders/lerobot_import --data_dir D --manual_dir LEROBOT_DIR
    tfds build builders/lerobot_import --data_dir D --manual_dir LEROBOT_DIR \
        --config '{"name": "koch", "mapping": "koch_mapping.yaml"}'

The mapping YAML (optional) says what cannot be guessed: which column is the state, which camera is
`image`, how the action maps to [-1, 1] (`rldg_data.imports.lerobot`). The folder is validated
before anything is written; features are sized from it; its fps is kept in metadata.json (so
`rldg export lerobot` writes it back at the same rate).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import tensorflow_datasets as tfds

from rldg_data.contract import spec as contract
from rldg_data.contract import tfds_json
from rldg_data.io.codec import features_dict
from rldg_data.io.tfds_build import AtomicRebuild
from rldg_data.imports.lerobot_files import open_lerobot
from rldg_data.imports.lerobot import LeRobotMapping, dataset_spec, iter_lerobot_episodes, split_ranges


@dataclasses.dataclass
class LeRobotImportConfig(tfds.core.BuilderConfig):
    """mapping: the mapping YAML file (optional); root: the LeRobot folder (instead of --manual_dir)."""

    mapping: Optional[str] = None
    root: Optional[str] = None


class Builder(AtomicRebuild, tfds.core.GeneratorBasedBuilder):
    """Episodes of a LeRobot v3.0 dataset (parquet + mp4), as contract RLDS episodes."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = LeRobotImportConfig
    BUILDER_CONFIGS = [LeRobotImportConfig(name="default", description="the LeRobot folder in --manual_dir")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = "Pass the LeRobot v3.0 dataset folder (the one holding meta/info.json) as --manual_dir."

    _spec: Optional[contract.DatasetSpec] = None
    _folder = None

    def _open(self, root) -> None:
        self._folder = open_lerobot(root)
        self._spec = dataset_spec(self._folder, LeRobotMapping.load(self.builder_config.mapping))

    def _info(self) -> tfds.core.DatasetInfo:
        if self._spec is None and self.builder_config.root:
            self._open(self.builder_config.root)
        return self.dataset_info_from_configs(
            features=tfds_json.features_for(self._spec or contract.DatasetSpec()),
            metadata=tfds.core.MetadataDict(), supervised_keys=None, homepage="https://github.com/huggingface/lerobot")

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        # --manual_dir is only known here, after _info() ran: validate the folder, size the features.
        root = self.builder_config.root or getattr(download_config, "manual_dir", None)
        if root and self._folder is None:
            self._open(root)
            self.info._features = tfds_json.features_for(self._spec)  # pylint: disable=protected-access
        if self._folder is not None:
            self.info.metadata["fps"] = self._folder.fps
        return super().download_and_prepare(download_dir=download_dir, download_config=download_config, **kwargs)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        if self._folder is None:
            self._open(dl_manager.manual_dir)
        return {split: self._generate_examples(episodes) for split, episodes in split_ranges(self._folder).items()}

    def _generate_examples(self, episodes: range):
        mapping = LeRobotMapping.load(self.builder_config.mapping)
        for episode in iter_lerobot_episodes(self._folder.root, mapping, self._folder, episodes):
            yield episode.episode_id, features_dict(episode, self._spec.image_encoding)
