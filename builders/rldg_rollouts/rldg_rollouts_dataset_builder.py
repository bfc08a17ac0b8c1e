"""rldg_rollouts: collector logs (envlogger Riegeli, `rldg collect`) as an RLDS dataset.

    tfds build builders/rldg_rollouts --data_dir D --manual_dir LOGS
    tfds build builders/rldg_rollouts --data_dir D --config '{"name": "run1", "log_dirs": ["L1", "L2"]}'

Features are the RLDS contract's (`rldg_data.contract.tfds_json.features_for`), sized from the logs themselves
(image size, wrist camera, privileged state); images are JPEG. Episodes come from
`collectors.to_rlds.iter_readable_episodes`; the builder base (`rldg_data.io.builder_base`) checks
each against the contract, refuses repeated episode ids and records the inputs fingerprint.

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

from collectors.collect import manifest_rate
from collectors.logs import log_spec, logs_fingerprint
from collectors.to_rlds import iter_readable_episodes
from rldg_data.contract import spec as contract
from rldg_data.errors import ConfigError
from rldg_data.io.builder_base import ContractBuilder, builder_config

log = logging.getLogger(__name__)

SKIP_ENV = "RLDG_SKIP_DAMAGED_LOGS"  # =1: as the config's skip_damaged_logs

NO_LOGS = """\
no collector logs given: pass the folder `rldg collect --out` wrote as --manual_dir
(tfds build builders/rldg_rollouts --data_dir D --manual_dir LOGS; searched recursively for
completed episode logs), or name the folders in a config:
--config '{"name": "run1", "log_dirs": ["L1", "L2"]}'"""


RldgRolloutsConfig = builder_config(
    "RldgRolloutsConfig", "rldg_rollouts", module=__name__,
    extra=[("log_dirs", Sequence[str], dataclasses.field(default=())),
           ("image_encoding", str, dataclasses.field(default="jpeg")),
           ("skip_damaged_logs", bool, dataclasses.field(default=False))],
    doc="""log_dirs: collector log folders to build (instead of --manual_dir);
    image_encoding: jpeg (default) or png;
    skip_damaged_logs: leave out logs that cannot be read (truncated or corrupt Riegeli files,
    missing metadata, an outcome file that disagrees with the log), count them in the dataset's
    README.md and rldg_inputs.json and list them at the end of the build. Off by default: a
    damaged log fails the build, naming its folder and episode.""")


class Builder(ContractBuilder):
    """RLDS episodes recorded by `rldg collect`: rollouts, demonstrations, hand-offs, interventions."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = RldgRolloutsConfig
    BUILDER_CONFIGS = [RldgRolloutsConfig(name="default", description="logs from --manual_dir")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = NO_LOGS
    HOMEPAGE = "https://github.com/rldg-data"

    _skipped: Optional[list] = None

    def _skip_damaged(self) -> bool:
        return self.builder_config.skip_damaged_logs or os.environ.get(SKIP_ENV, "") not in ("", "0")

    def _find_inputs(self, manual_dir):
        if isinstance(self.builder_config.log_dirs, str):
            raise ConfigError(f"rldg_rollouts --config: log_dirs must be a list of folders, got "
                              f"{self.builder_config.log_dirs!r}")
        roots = [str(r) for r in self.builder_config.log_dirs] or ([str(manual_dir)] if manual_dir else [])
        return roots or None

    def _inputs_spec(self, roots) -> contract.DatasetSpec:
        return log_spec(roots, self.builder_config.image_encoding, self._skip_damaged())

    def _metadata(self) -> tfds.core.MetadataDict:
        return tfds.core.MetadataDict()  # metadata.json: the recording rate (contract.RATE_KEY)

    def _inputs_record(self, roots) -> dict:
        record = logs_fingerprint(roots)
        config = self.builder_config
        record["image_encoding"] = config.image_encoding
        record["skip_damaged_logs"] = self._skip_damaged()
        record["fingerprint"] = f"{record['fingerprint'][:48]}-{config.image_encoding}"
        return record

    def _prepare_inputs(self, roots) -> None:
        self._skipped = [] if self._skip_damaged() else None
        rate = manifest_rate(roots)  # collect.json's rate_hz, when every log folder gives the same
        if rate:
            self.info.metadata[contract.RATE_KEY] = int(rate) if float(rate).is_integer() else float(rate)

    def _episodes(self, roots, part):
        return iter_readable_episodes(roots, skipped=self._skipped)

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        result = super().download_and_prepare(download_dir=download_dir, download_config=download_config, **kwargs)
        if self._skipped:
            log.warning("%d damaged episode log(s) were left out of %s (listed in its README.md):\n%s",
                        len(self._skipped), self.data_dir, "\n".join(f"  - {e}" for e in self._skipped))
        return result

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
