"""rldg_rollouts: collector logs (envlogger Riegeli, `rldg collect`) as an RLDS dataset.

    tfds build builders/rldg_rollouts --data_dir D --manual_dir LOGS
    tfds build builders/rldg_rollouts --data_dir D --config '{"name": "run1", "log_dirs": ["L1", "L2"]}'

Features are the RLDS contract's (`rldg_data.contract.tfds_json.features_for`), sized from the logs themselves
(image size, wrist camera, privileged state); images are JPEG. Examples come from
`collectors.to_rlds.iter_examples`, which checks every episode against the contract first.

A damaged log fails the build naming its folder and episode; `RLDG_SKIP_DAMAGED_LOGS=1 tfds build
...` (or `"skip_damaged_logs": true` in a JSON config) leaves damaged logs out, counts them in the
dataset's README.md and rldg_inputs.json, and lists them at the end of the build. `--overwrite` rebuilds aside and swaps (the old dataset stays
readable until the new one is complete); a build into a data dir that holds a dataset of other
logs refuses instead of reusing it (`rldg_data.io.tfds_build`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Optional, Sequence

import tensorflow_datasets as tfds

from collectors.logs import log_spec, logs_fingerprint
from collectors.to_rlds import iter_examples
from rldg_data.contract import spec as contract
from rldg_data.contract import tfds_json
from rldg_data.errors import DatasetError
from rldg_data.io.tfds_build import AtomicRebuild, user_errors

log = logging.getLogger(__name__)

SKIP_ENV = "RLDG_SKIP_DAMAGED_LOGS"  # =1: as the config's skip_damaged_logs

NO_LOGS = """\
no collector logs given: pass the folder `rldg collect --out` wrote as --manual_dir
(tfds build builders/rldg_rollouts --data_dir D --manual_dir LOGS; searched recursively for
completed episode logs), or name the folders in a config:
--config '{"name": "run1", "log_dirs": ["L1", "L2"]}'"""


@dataclasses.dataclass
class RldgRolloutsConfig(tfds.core.BuilderConfig):
    """log_dirs: collector log folders to build (instead of --manual_dir);
    image_encoding: jpeg (default) or png;
    skip_damaged_logs: leave out logs that cannot be read (truncated or corrupt Riegeli files,
    missing metadata, an outcome file that disagrees with the log), count them in the dataset's
    README.md and rldg_inputs.json and list them at the end of the build. Off by default: a
    damaged log fails the build, naming its folder and episode."""

    log_dirs: Sequence[str] = ()
    image_encoding: str = "jpeg"
    skip_damaged_logs: bool = False


class Builder(AtomicRebuild, tfds.core.GeneratorBasedBuilder):
    """RLDS episodes recorded by `rldg collect`: rollouts, demonstrations, hand-offs, interventions."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = RldgRolloutsConfig
    BUILDER_CONFIGS = [RldgRolloutsConfig(name="default", description="logs from --manual_dir")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = NO_LOGS

    _logs_spec: Optional[contract.DatasetSpec] = None
    _skipped: Optional[list] = None

    def _skip_damaged(self) -> bool:
        return self.builder_config.skip_damaged_logs or os.environ.get(SKIP_ENV, "") not in ("", "0")

    def _dataset_spec(self) -> contract.DatasetSpec:
        config = self.builder_config
        if self._logs_spec is None and config.log_dirs:
            self._logs_spec = log_spec(config.log_dirs, config.image_encoding, self._skip_damaged())
        return self._logs_spec or contract.DatasetSpec(image_size=64,
                                                       image_encoding=config.image_encoding)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds_json.features_for(self._dataset_spec()),
            supervised_keys=None,
            homepage="https://github.com/rldg-data",
        )

    def _roots(self, download_config) -> list[str]:
        return list(self.builder_config.log_dirs) or (
            [str(download_config.manual_dir)] if getattr(download_config, "manual_dir", None) else [])

    def _inputs_fingerprint(self, download_config) -> Optional[dict]:
        roots = self._roots(download_config)
        if not roots:
            return None
        record = logs_fingerprint(roots)
        config = self.builder_config
        record["image_encoding"] = config.image_encoding
        record["skip_damaged_logs"] = self._skip_damaged()
        record["fingerprint"] = f"{record['fingerprint'][:48]}-{config.image_encoding}"
        return record

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        download_config = download_config or tfds.download.DownloadConfig()
        with user_errors():
            roots = self._roots(download_config)
            rebuild = download_config.download_mode.overwrite_dataset
            if not roots and (rebuild or not self.data_path.exists()):
                raise DatasetError(NO_LOGS)
            # --manual_dir is only known here, after _info() ran: size the features from those logs.
            if roots and not self.builder_config.log_dirs:
                self._logs_spec = log_spec(roots, self.builder_config.image_encoding,
                                           self._skip_damaged())
                self.info._features = tfds_json.features_for(self._logs_spec)  # pylint: disable=protected-access
            self._skipped = [] if self._skip_damaged() else None
            result = super().download_and_prepare(download_dir=download_dir,
                                                  download_config=download_config, **kwargs)
        if self._skipped:
            log.warning("%d damaged episode log(s) were left out of %s (listed in its README.md):\n%s",
                        len(self._skipped), self.data_dir, "\n".join(f"  - {e}" for e in self._skipped))
        return result

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        roots = list(self.builder_config.log_dirs) or [dl_manager.manual_dir]
        return {"train": self._generate_examples(roots)}

    def _generate_examples(self, roots):
        yield from iter_examples(roots, self._dataset_spec(), skipped=self._skipped)

    def _write_build_files(self, folder: Path) -> None:
        skipped = self._skipped or []
        if self._rldg_inputs is not None:
            self._rldg_inputs["skipped_damaged_logs"] = [
                {"log": e.file, "episode_id": e.episode_id, "reason": e.reason} for e in skipped]
        super()._write_build_files(folder)
        (folder / "README.md").write_text(rollouts_card(self.info.full_name, self._rldg_inputs, skipped))


def rollouts_card(name: str, inputs: Optional[dict], skipped: list) -> str:
    """The dataset card (README.md) of a build: what it was built from and what was left out."""
    lines = [f"# {name}", "", "RLDS episodes recorded by `rldg collect`, built with "
             "`tfds build builders/rldg_rollouts`.", ""]
    if inputs:
        lines += [f"- built from: {inputs['description']}", f"- inputs fingerprint: `{inputs['fingerprint']}`"]
    lines.append(f"- damaged logs skipped: {len(skipped)}")
    lines += [f"  - `{e.file}` (episode {e.episode_id}): {e.reason}" for e in skipped]
    return "\n".join(lines) + "\n"
