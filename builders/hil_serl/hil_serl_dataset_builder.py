"""hil_serl: HIL-SERL pickles (demos, replay buffers, rollouts) as an RLDS contract dataset.

    touch PICKLES/TRUST_PICKLE
    tfds build builders/hil_serl --data_dir D --manual_dir PICKLES
    tfds build builders/hil_serl --data_dir D --manual_dir PICKLES --config '{"name": "demos", "source": "human"}'

The conversion is `rldg_data.imports.hil_serl.file_episodes`, the one `rldg import hil-serl` runs; episodes
are checked against the contract and encoded by `rldg_data.io.codec.features_dict`. Nothing is
unpickled unless the user opted in (a `TRUST_PICKLE` file in the folder, or `trust_pickle` in the config).
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import tensorflow_datasets as tfds

from rldg_data.contract.check import episode_violations
from rldg_data.imports import hil_serl
from rldg_data.contract import spec as contract
from rldg_data.contract import tfds_json
from rldg_data.errors import ContractError, UnsafeInputError
from rldg_data.io.codec import features_dict
from rldg_data.io.tfds_build import AtomicRebuild, files_fingerprint, user_errors


@dataclasses.dataclass
class HilSerlConfig(tfds.core.BuilderConfig):
    """The options of `rldg_data.imports.hil_serl.ImportOptions`, plus where the pickles are and the opt-in.

    trust_pickle: the user made or trusts the pickles (else a TRUST_PICKLE file must be in the folder);
    image_encoding: jpeg (default) or png.
    """

    trust_pickle: bool = False
    source: str = contract.SOURCE_RL
    instruction: str = ""
    task: str = "hil_serl"
    variant: str = ""
    split: str = "seen"
    wrist: bool = False
    cameras: Optional[Sequence[str]] = None
    relative_gripper: bool = True
    image_encoding: str = "jpeg"

    def options(self) -> hil_serl.ImportOptions:
        return hil_serl.ImportOptions(instruction=self.instruction, source=self.source, task=self.task,
                                      variant=self.variant, split=self.split, wrist=self.wrist,
                                      cameras=tuple(self.cameras) if self.cameras else None,
                                      relative_gripper=self.relative_gripper)


class Builder(AtomicRebuild, tfds.core.GeneratorBasedBuilder):
    """HIL-SERL transitions as RLDS episodes: interventions marked, gripper made absolute.

    `--overwrite` rebuilds aside and swaps; a build from other pickles into the same --data_dir
    refuses to reuse the old dataset (`rldg_data.io.tfds_build`)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIG_CLS = HilSerlConfig
    BUILDER_CONFIGS = [HilSerlConfig(name="default", description="pickles in --manual_dir, RL source")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Pass the folder holding HIL-SERL .pkl files as --manual_dir. Unpickling runs code stored in the
    files: put an empty file named TRUST_PICKLE in that folder to say you made or trust them.
    """

    _spec: Optional[contract.DatasetSpec] = None

    def _info(self) -> tfds.core.DatasetInfo:
        spec = self._spec or contract.DatasetSpec(image_size=64, image_encoding=self.builder_config.image_encoding)
        return self.dataset_info_from_configs(features=tfds_json.features_for(spec), supervised_keys=None,
                                              homepage="https://github.com/rail-berkeley/hil-serl")

    def _trusted(self, folder) -> bool:
        if self.builder_config.trust_pickle or hil_serl.folder_trusted(folder):
            return True
        raise UnsafeInputError(
            f"{folder}: refusing to unpickle: loading a pickle runs arbitrary code stored in the file. "
            f"Only for pickles you made or trust: create {folder}/{hil_serl.TRUST_MARKER} "
            f"(or set trust_pickle in --config)")

    def _inputs_fingerprint(self, download_config) -> Optional[dict]:
        manual = getattr(download_config, "manual_dir", None)
        if not manual:
            return None
        options = dataclasses.asdict(self.builder_config.options())
        return files_fingerprint(manual, hil_serl.pickle_files(manual), {**options, "image_encoding":
                                                                         self.builder_config.image_encoding})

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        with user_errors():
            return self._download_and_prepare_checked(download_dir, download_config, **kwargs)

    def _download_and_prepare_checked(self, download_dir, download_config, **kwargs):
        # --manual_dir is only known here, after _info() ran: size the features from the first episode.
        manual = getattr(download_config, "manual_dir", None)
        if manual:
            first = hil_serl.pickle_files(manual)[0]
            episode = next(iter(hil_serl.file_episodes(first, self.builder_config.options(), self._trusted(manual))),
                           None)
            if episode is None:
                raise ContractError("no complete episode (no transition with `dones`)", file=str(first))
            self._spec = dataclasses.replace(episode.spec(), image_encoding=self.builder_config.image_encoding)
            self.info._features = tfds_json.features_for(self._spec)  # pylint: disable=protected-access
        return super().download_and_prepare(download_dir=download_dir, download_config=download_config, **kwargs)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        return {"train": self._generate_examples(dl_manager.manual_dir)}

    def _generate_examples(self, folder):
        trusted = self._trusted(folder)
        seen: set[str] = set()
        for path in hil_serl.pickle_files(folder):
            for episode in hil_serl.file_episodes(path, self.builder_config.options(), trusted):
                found = episode_violations(episode, self._spec)
                if found:
                    raise found[0].located(file=str(path))
                if episode.episode_id in seen:  # the same file twice under different names
                    raise ContractError("duplicate episode_id (the same pickle twice?)", file=str(path),
                                        episode_id=episode.episode_id)
                seen.add(episode.episode_id)
                yield episode.episode_id, features_dict(episode, self._spec.image_encoding)
