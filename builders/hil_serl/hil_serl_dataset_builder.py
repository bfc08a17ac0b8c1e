"""hil_serl: HIL-SERL pickles (demos, replay buffers, rollouts) as an RLDS contract dataset.

    touch PICKLES/TRUST_PICKLE
    tfds build builders/hil_serl --data_dir D --manual_dir PICKLES
    tfds build builders/hil_serl --data_dir D --manual_dir PICKLES --config '{"name": "demos", "source": "human"}'

The conversion is `rldg_data.imports.hil_serl.file_episodes`, the one `rldg import hil-serl` runs;
the config's fields are `rldg_data.imports.hil_serl.ImportOptions`'s own (plus where the pickles are
and the opt-in). The builder base (`rldg_data.io.builder_base`) checks every episode against the
contract, refuses repeated ids, records the inputs (pickle files and options) and refuses to reuse
a dataset of other pickles. Nothing is unpickled unless the user opted in (a `TRUST_PICKLE` file in
the folder, or `trust_pickle` in the config).
"""

from __future__ import annotations

import dataclasses

import tensorflow_datasets as tfds

from rldg_data.contract import spec as contract
from rldg_data.errors import ContractError, UnsafeInputError
from rldg_data.imports import hil_serl
from rldg_data.io.builder_base import ContractBuilder, builder_config
from rldg_data.io.tfds_build import files_fingerprint

HilSerlConfig = builder_config(
    "HilSerlConfig", "hil_serl", hil_serl.ImportOptions, module=__name__,
    extra=[("trust_pickle", bool, dataclasses.field(default=False)),
           ("image_encoding", str, dataclasses.field(default="jpeg"))],
    doc="""The options of `rldg_data.imports.hil_serl.ImportOptions`, plus the opt-in and the encoding.

    trust_pickle: the user made or trusts the pickles (else a TRUST_PICKLE file must be in the folder);
    image_encoding: jpeg (default) or png.
    """)


class Builder(ContractBuilder):
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
    HOMEPAGE = "https://github.com/rail-berkeley/hil-serl"

    def _trusted(self, folder) -> bool:
        if self.builder_config.trust_pickle or hil_serl.folder_trusted(folder):
            return True
        raise UnsafeInputError(
            f"{folder}: refusing to unpickle: loading a pickle runs arbitrary code stored in the file. "
            f"Only for pickles you made or trust: create {folder}/{hil_serl.TRUST_MARKER} "
            f"(or set trust_pickle in --config)")

    def _find_inputs(self, manual_dir):
        return str(manual_dir) if manual_dir else None

    def _inputs_spec(self, folder) -> contract.DatasetSpec:
        """Sized from the first episode of the first pickle (after the trust check)."""
        first = hil_serl.pickle_files(folder)[0]
        episode = next(iter(hil_serl.file_episodes(first, self.builder_config.options(), self._trusted(folder))),
                       None)
        if episode is None:
            raise ContractError("no complete episode (no transition with `dones`)", file=str(first))
        return dataclasses.replace(episode.spec(), image_encoding=self.builder_config.image_encoding)

    def _inputs_record(self, folder) -> dict:
        options = dataclasses.asdict(self.builder_config.options())
        return files_fingerprint(folder, hil_serl.pickle_files(folder),
                                 {**options, "image_encoding": self.builder_config.image_encoding})

    def _episodes(self, folder, part):
        trusted = self._trusted(folder)
        for path in hil_serl.pickle_files(folder):
            for episode in hil_serl.file_episodes(path, self.builder_config.options(), trusted):
                yield episode, path
