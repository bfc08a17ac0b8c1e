"""rldg_rollouts: collector logs (envlogger Riegeli, `rldg collect`) as an RLDS dataset.

    tfds build builders/rldg_rollouts --data_dir D --manual_dir LOGS
    tfds build builders/rldg_rollouts --data_dir D --config '{"name": "run1", "log_dirs": ["L1", "L2"]}'

Features are the RLDS contract's (`rldg_data.contract.spec.features`), sized from the logs themselves
(image size, wrist camera, privileged state); images are JPEG. Examples come from
`collectors.to_rlds.iter_examples`, which checks every episode against the contract first.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import tensorflow_datasets as tfds

from collectors.logs import log_spec
from collectors.to_rlds import iter_examples
from rldg_data.contract import spec as contract


@dataclasses.dataclass
class RldgRolloutsConfig(tfds.core.BuilderConfig):
    """log_dirs: collector log folders to build (instead of --manual_dir);
    image_encoding: jpeg (default) or png."""

    log_dirs: Sequence[str] = ()
    image_encoding: str = "jpeg"


class Builder(tfds.core.GeneratorBasedBuilder):
    """RLDS episodes recorded by `rldg collect`: rollouts, demonstrations, hand-offs, interventions."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = RldgRolloutsConfig
    BUILDER_CONFIGS = [RldgRolloutsConfig(name="default", description="logs from --manual_dir")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Pass the folder(s) `rldg collect --out` wrote as --manual_dir (searched recursively for
    completed episode logs), or name them in a config: --config '{"name": "x", "log_dirs": [...]}'.
    """

    _logs_spec: Optional[contract.DatasetSpec] = None

    def _dataset_spec(self) -> contract.DatasetSpec:
        config = self.builder_config
        if self._logs_spec is None and config.log_dirs:
            self._logs_spec = log_spec(config.log_dirs, config.image_encoding)
        return self._logs_spec or contract.DatasetSpec(image_size=64,
                                                       image_encoding=config.image_encoding)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=contract.features_for(self._dataset_spec()),
            supervised_keys=None,
            homepage="https://github.com/rldg-data",
        )

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        # --manual_dir is only known here, after _info() ran: size the features from those logs.
        manual = getattr(download_config, "manual_dir", None)
        if manual and not self.builder_config.log_dirs:
            self._logs_spec = log_spec([manual], self.builder_config.image_encoding)
            self.info._features = contract.features_for(self._logs_spec)  # pylint: disable=protected-access
        return super().download_and_prepare(download_dir=download_dir,
                                            download_config=download_config, **kwargs)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        roots = list(self.builder_config.log_dirs) or [dl_manager.manual_dir]
        return {"train": self._generate_examples(roots)}

    def _generate_examples(self, roots):
        yield from iter_examples(roots, self._dataset_spec())
