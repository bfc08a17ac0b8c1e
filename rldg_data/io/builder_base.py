"""One base for every TFDS builder of the toolkit (`builders/<name>/`): the subclass says what its
inputs are, the base does the rest the same way for all of them.

A builder subclasses `ContractBuilder` and says three things:

- `_find_inputs(manual_dir)`: where its inputs are (from its config, else `--manual_dir`), or None
  when none were given;
- `_inputs_spec(inputs)`: the `DatasetSpec` of the dataset those inputs make (image size, wrist
  camera, dims), and `_inputs_record(inputs)`: what identifies them (see `files_fingerprint`);
- `_episodes(inputs, part)`: its contract `Episode`s, each with the file (or place) it came from,
  for the parts `_split_parts(inputs)` maps split names to (one `train` split by default).

The base then does, identically for every builder: the features (`contract.tfds_json.features_for`
of the spec, sized from `--manual_dir` too, which TFDS only passes after `_info()` ran); the
contract check of every episode, located at its file and episode (`contract.check.episode_violations`);
refusing a repeated episode id, naming both places; the inputs fingerprint recorded with the dataset
(`rldg_inputs.json`) and the refusal to reuse a dataset built from other inputs; the atomic rebuild
(`io.tfds_build.AtomicRebuild`); and user errors (a bad `--config`, mapping or input) as one line
and a non-zero exit under the `tfds` command, with the exception kept for library callers.

`builder_config(...)` makes a builder's config class: a `tfds.core.BuilderConfig` dataclass whose
fields are an options dataclass's own (same names, types, defaults) plus the builder's extras, whose
`--config '{...}'` JSON refuses an unknown key in one line, and `options()` builds the options back.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import typing
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import tensorflow_datasets as tfds

from rldg_data.configs import check_keys, field_names
from rldg_data.contract import spec as contract
from rldg_data.contract import tfds_json
from rldg_data.contract.check import episode_violations
from rldg_data.contract.episode import Episode
from rldg_data.errors import ConfigError, ContractError, DatasetError
from rldg_data.io.codec import features_dict
from rldg_data.io.reader import spec_from_features_json
from rldg_data.io.tfds_build import AtomicRebuild, replace_requested, user_errors


class ContractBuilder(AtomicRebuild, tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A TFDS builder of RLDS contract episodes; see the module docstring for what a subclass says.

    Class attributes: HOMEPAGE (dataset_info's homepage); NO_INPUTS (the message when neither the
    config nor --manual_dir names the inputs; default MANUAL_DOWNLOAD_INSTRUCTIONS).
    """

    HOMEPAGE = ""
    NO_INPUTS: Optional[str] = None

    _inputs: Any = None
    _spec: Optional[contract.DatasetSpec] = None
    _declared: Optional[contract.DatasetSpec] = None  # the spec _info() declared the features with
    _seen: Optional[dict] = None

    # --- what a subclass says ---------------------------------------------------------------------
    def _find_inputs(self, manual_dir: Optional[str]) -> Any:
        """The inputs named by the config, else by `manual_dir` (None before TFDS knows it); None
        when there are none."""
        raise NotImplementedError

    def _inputs_spec(self, inputs: Any) -> contract.DatasetSpec:
        """The spec of the dataset built from `inputs`."""
        raise NotImplementedError

    def _inputs_record(self, inputs: Any) -> Optional[dict]:
        """{"fingerprint": str, "description": str, ...} of `inputs` (None: no reuse check)."""
        return None

    def _split_parts(self, inputs: Any) -> dict[str, Any]:
        """{split name: part} handed to `_episodes`; one `train` split by default."""
        return {"train": None}

    def _episodes(self, inputs: Any, part: Any) -> Iterable[tuple[Episode, str]]:
        """(episode, the file or place it came from) of one split part."""
        raise NotImplementedError

    def _default_spec(self) -> contract.DatasetSpec:
        """The spec declared before the inputs are known: a built dataset's own (its features.json,
        so `tfds.builder(name, data_dir=D)` reads it back), else the contract's default sizes."""
        built = Path(os.fspath(self._data_dir)) / "features.json" if getattr(self, "_data_dir", None) else None
        if built is not None and built.is_file():
            try:
                return spec_from_features_json(built)
            except (ValueError, KeyError, TypeError, IndexError, ConfigError):  # not a contract dataset's
                pass
        return contract.DatasetSpec(image_size=64,
                                    image_encoding=getattr(self.builder_config, "image_encoding", "jpeg"))

    def _metadata(self) -> Optional[tfds.core.MetadataDict]:
        """Metadata stored in the dataset folder (metadata.json); None for none."""
        return None

    def _prepare_inputs(self, inputs: Any) -> None:
        """Called once the inputs are known, before the build (e.g. to fill `self.info.metadata`)."""

    # --- what the base does -----------------------------------------------------------------------
    def __init__(self, **kwargs):
        with user_errors():  # a bad --config or inputs named in it: one line under `tfds build`
            super().__init__(**kwargs)

    def _resolve(self, manual_dir: Optional[str]) -> Any:
        """The inputs (found once) and their spec in `self._spec`."""
        if self._inputs is None:
            inputs = self._find_inputs(manual_dir)
            if inputs is not None:
                self._spec = self._inputs_spec(inputs)
                self._inputs = inputs
        return self._inputs

    def _info(self) -> tfds.core.DatasetInfo:
        self._resolve(None)
        self._declared = self._spec or self._default_spec()
        return self.dataset_info_from_configs(features=tfds_json.features_for(self._declared),
                                              metadata=self._metadata(), supervised_keys=None,
                                              homepage=self.HOMEPAGE)

    def _inputs_fingerprint(self, download_config) -> Optional[dict]:  # noqa: ARG002 (AtomicRebuild's hook)
        return None if self._inputs is None else self._inputs_record(self._inputs)

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        download_config = download_config or tfds.download.DownloadConfig()
        with user_errors():
            inputs = self._resolve(self._manual_dir(download_dir, download_config))
            if inputs is None:
                rebuild = download_config.download_mode.overwrite_dataset or replace_requested(self.data_dir)
                if rebuild or not self.data_path.exists():
                    raise DatasetError(self.NO_INPUTS or self.MANUAL_DOWNLOAD_INSTRUCTIONS
                                       or f"{self.name}: no inputs given")
            else:
                if self._spec != self._declared:  # found from --manual_dir, after _info() ran
                    self.info._features = tfds_json.features_for(self._spec)  # pylint: disable=protected-access
                self._prepare_inputs(inputs)
            self._seen = {}
            return super().download_and_prepare(download_dir=download_dir, download_config=download_config,
                                                **kwargs)

    def _manual_dir(self, download_dir, download_config) -> Optional[str]:
        """--manual_dir, else TFDS's own default (`<data_dir>/downloads/manual`) when it exists and
        holds something, as `dl_manager.manual_dir` finds it; None when there is none. Asked
        before the build because the features are sized from the inputs."""
        if download_config.manual_dir:
            return str(download_config.manual_dir)
        if not self.MANUAL_DOWNLOAD_INSTRUCTIONS:
            return None
        try:
            return str(self._make_download_manager(download_dir, download_config).manual_dir)
        except (AssertionError, ValueError):  # TFDS's "Manual directory ... does not exist or is empty"
            return None

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        return {split: self._generate_examples(part) for split, part in self._split_parts(self._inputs).items()}

    def _generate_examples(self, part: Any) -> Iterator[tuple[str, dict]]:
        """(episode_id, example) of every episode of `part`, each checked against the contract and
        the dataset's spec, ids unique across the whole dataset."""
        seen = self._seen if self._seen is not None else {}
        for episode, where in self._episodes(self._inputs, part):
            found = episode_violations(episode, self._spec, file=str(where))
            if found:
                raise found[0]
            if episode.episode_id in seen:
                raise ContractError(f"duplicate episode_id (also in {seen[episode.episode_id]})", file=str(where),
                                    episode_id=episode.episode_id,
                                    field=f"{contract.EPISODE_METADATA}/{contract.EPISODE_ID}",
                                    hint="the same episode is in the inputs twice; build from one copy")
            seen[episode.episode_id] = where
            yield episode.episode_id, features_dict(episode, self._spec.image_encoding)


def file_sha256(path) -> str:
    """SHA-256 of a small input file's bytes (a mapping, a recipe, dataset_info.json) for an
    inputs record; "(missing)" when it cannot be read."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "(missing)"


def dataset_digest_of(version_dir) -> str:
    """What identifies a built dataset's content for an inputs record: the digest in its
    rldg_info.json when it has one (datasets the toolkit wrote), else a hash of its files' names and
    sizes and its dataset_info.json (datasets `tfds build` wrote)."""
    import hashlib
    import json

    version_dir = Path(version_dir)
    try:
        digest = json.loads((version_dir / "rldg_info.json").read_text()).get("digest")
    except (OSError, ValueError):
        digest = None
    if digest:
        return str(digest)
    h = hashlib.sha256(file_sha256(version_dir / "dataset_info.json").encode())
    for f in sorted(p for p in version_dir.iterdir() if p.is_file() and p.name != "dataset_info.json"):
        h.update(f"{f.name}:{f.stat().st_size}\0".encode())
    return h.hexdigest()


def _checked_init(cls: type, builder: str) -> None:
    """Makes `cls(**kwargs)` (what `tfds build --config '{...}'` calls) refuse an unknown key or a
    bad value as a ConfigError, a one-line user error under the `tfds` command."""
    init = cls.__init__
    allowed = field_names(cls)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        with user_errors():
            check_keys(kwargs, allowed, f"{builder} --config")
            try:
                init(self, *args, **kwargs)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{builder} --config: {exc}") from exc

    cls.__init__ = __init__


def builder_config(name: str, builder: str, options: Optional[type] = None, extra: Iterable[tuple] = (),
                   doc: str = "", module: Optional[str] = None) -> type:
    """A `tfds.core.BuilderConfig` dataclass named `name` for the builder `builder`: the fields of
    the dataclass `options` (same names, types and defaults: one source), then `extra`
    (`(name, type, dataclasses.field(...))` tuples), with `options()` building `options` back;
    `module`: the builder module's `__name__` (where the class is said to live).
    `--config '{...}'` with an unknown key fails naming it and the allowed ones."""
    fields = []
    if options is not None:
        hints = typing.get_type_hints(options)
        for f in dataclasses.fields(options):
            default = (dataclasses.field(default_factory=f.default_factory)
                       if f.default_factory is not dataclasses.MISSING else dataclasses.field(default=f.default))
            fields.append((f.name, hints[f.name], default))
    fields += list(extra)

    def to_options(self):
        """The options dataclass of this config (lists from JSON become tuples)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(options)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return options(**values)

    namespace = {"__doc__": doc or f"Config of builders/{builder}.", "__module__": module or __name__}
    if options is not None:
        namespace["options"] = to_options
        namespace["OPTIONS"] = options
    cls = dataclasses.make_dataclass(name, fields, bases=(tfds.core.BuilderConfig,), namespace=namespace)
    _checked_init(cls, builder)
    return cls
