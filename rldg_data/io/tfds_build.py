"""TFDS builds that never lose the old dataset and never reuse one built from other inputs.

TFDS's `download_and_prepare` deletes an existing version folder before it builds the new one
(`--overwrite`: `data_path.rmtree()`), so a rebuild killed by SIGKILL, the OOM killer or a power
cut leaves no dataset at all. `AtomicRebuild`, mixed into a builder class before TFDS's own, builds
a rebuild into a hidden folder beside the old version (`<config>/.rebuild-<version>-<random>/`),
then exchanges the two folders in one rename (`rldg_data.io.atomic.exchange_dirs`): at every instant
the version folder holds a complete dataset, the old one or the new one. A folder left by a killed
rebuild is hidden (readers skip names starting with ".") and swept by the next build.

Builders that know their inputs (`_inputs_fingerprint`) also record them in `rldg_inputs.json`
inside the dataset, written before the dataset is renamed into place; a later `tfds build` of
other inputs into the same data dir refuses to return the old dataset and says how to rebuild,
instead of TFDS's silent "Reusing dataset".
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Optional

from rldg_data.io.atomic import exchange_dirs, replace_dir
from rldg_data.errors import DatasetError, RldgError
from rldg_data.io.space import space_errors

log = logging.getLogger(__name__)

INPUTS_FILE = "rldg_inputs.json"
REBUILD_PREFIX = ".rebuild-"
_OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale_rebuilds(config_dir: Path) -> list[Path]:
    """Deletes the hidden rebuild folders under `config_dir` whose building process is gone."""
    swept = []
    if not config_dir.is_dir():
        return swept
    for folder in config_dir.glob(f"{REBUILD_PREFIX}*"):
        try:
            pid = int((folder / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            pid = -1
        if pid > 0 and pid != os.getpid() and _alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        swept.append(folder)
    if swept:
        log.info("removed %d folder(s) left by killed rebuilds under %s", len(swept), config_dir)
    return swept


def read_inputs(version_dir: Path) -> Optional[dict]:
    """The inputs record of a built dataset (None if it has none or it is unreadable)."""
    try:
        return json.loads((Path(version_dir) / INPUTS_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def check_same_inputs(version_dir: Path, current: Optional[dict]) -> None:
    """Raises DatasetError when the dataset at `version_dir` was built from other inputs."""
    if current is None:
        return
    built = read_inputs(version_dir)
    if built is None:
        log.warning("%s records no inputs (built before rldg recorded them): reusing it; pass "
                    "--overwrite to rebuild it from %s", version_dir, current.get("description"))
        return
    if built.get("fingerprint") != current.get("fingerprint"):
        changed = changed_parts(built.get("parts") or {}, current.get("parts") or {})
        raise DatasetError(
            f"{version_dir} was built from other inputs ({built.get('description')}; fingerprint "
            f"{str(built.get('fingerprint'))[:12]}), not from {current.get('description')} "
            f"(fingerprint {str(current.get('fingerprint'))[:12]})"
            f"{'; changed: ' + '; '.join(changed) if changed else ''}. Rebuild it with "
            f"`tfds build ... --overwrite` (the old dataset stays readable until the new one is "
            f"complete), or build into another --data_dir")


def changed_parts(built: dict, current: dict) -> list[str]:
    """'<part> <old> -> <new>' for each named part of an inputs record (`"parts"`: e.g. a recipe's
    hash, each source's digest) that differs, values shortened to 12 characters."""
    def short(value) -> str:
        return "(none)" if value is None else str(value)[:12]

    return [f"{key} {short(built.get(key))} -> {short(current.get(key))}"
            for key in sorted(set(built) | set(current)) if built.get(key) != current.get(key)]


# Version folders whose deletion was deferred (see `_keep_until_rebuilt`), by absolute path.
_REPLACE_REQUESTED: set[str] = set()
_GUARDED_TYPES: dict[type, type] = {}


def replace_requested(version_dir) -> bool:
    """Whether `tfds build --overwrite` asked to replace the dataset at `version_dir` (its deletion
    deferred by `_keep_until_rebuilt`)."""
    return os.path.abspath(os.fspath(version_dir)) in _REPLACE_REQUESTED


def _keep_until_rebuilt(path):
    """`path` (an etils Path) whose `rmtree()` of a built dataset folder only records that it is
    to be replaced: `tfds build --overwrite` deletes the old version folder itself
    (scripts/cli/build.py `_make_builder`: `builder.data_path.rmtree()`) before it calls
    `download_and_prepare`, which then rebuilds aside and swaps."""
    base = type(path)
    guarded = _GUARDED_TYPES.get(base)
    if guarded is None:
        def rmtree(self, missing_ok: bool = False) -> None:
            if (Path(os.fspath(self)) / "dataset_info.json").is_file():
                _REPLACE_REQUESTED.add(os.path.abspath(os.fspath(self)))
                log.info("keeping %s until its rebuild is complete", self)
                return
            base.rmtree(self, missing_ok=missing_ok)

        guarded = _GUARDED_TYPES[base] = type(f"KeptUntilRebuilt{base.__name__}", (base,), {"rmtree": rmtree})
    return guarded(os.fspath(path))


def files_fingerprint(root, files, settings: Optional[dict] = None) -> dict:
    """An inputs record for `AtomicRebuild._inputs_fingerprint`: a hash of each file's path
    (relative to `root`) and size, and of `settings` (options that change the examples)."""
    import hashlib

    root = Path(root)
    digest = hashlib.sha256(json.dumps(settings or {}, sort_keys=True, default=str).encode())
    files = sorted(Path(f) for f in files)
    for f in files:
        digest.update(f"{f.relative_to(root) if f.is_relative_to(root) else f}:{f.stat().st_size}\0".encode())
    return {"fingerprint": digest.hexdigest(), "files": len(files), "root": str(root),
            "description": f"{len(files)} files in {root}"}


class AtomicRebuild:
    """Mixin for `tfds.core.DatasetBuilder` subclasses (list it first among the bases).

    Subclasses may override `_inputs_fingerprint(download_config)` to return
    {"fingerprint": str, "description": str, ...} of what the dataset is built from, and
    `_write_build_files(folder)` to add files to the dataset before it is renamed into place.
    """

    _rldg_inputs: Optional[dict] = None

    def _inputs_fingerprint(self, download_config) -> Optional[dict]:  # noqa: ARG002
        return None

    @property
    def data_path(self):
        return _keep_until_rebuilt(super().data_path)

    def _write_build_files(self, folder: Path) -> None:
        if self._rldg_inputs is not None:
            (folder / INPUTS_FILE).write_text(json.dumps(self._rldg_inputs, indent=2, sort_keys=True))

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        import tensorflow_datasets as tfds

        download_config = download_config or tfds.download.DownloadConfig()
        final = Path(os.fspath(self.data_dir))
        with space_errors(final, f"the TFDS build of {self.name}"):
            return self._prepare_with_rldg_checks(final, download_dir, download_config, kwargs)

    def _prepare_with_rldg_checks(self, final: Path, download_dir, download_config, kwargs):
        import tensorflow_datasets as tfds

        sweep_stale_rebuilds(final.parent)
        self._rldg_inputs = self._inputs_fingerprint(download_config)
        overwrite = download_config.download_mode.overwrite_dataset
        if os.path.abspath(final) in _REPLACE_REQUESTED:  # `tfds build --overwrite`
            _REPLACE_REQUESTED.discard(os.path.abspath(final))
            overwrite = True
        if not final.exists() or download_config.download_mode == tfds.download.GenerateMode.UPDATE_DATASET_INFO:
            return super().download_and_prepare(download_dir=download_dir, download_config=download_config,
                                                **kwargs)
        if not overwrite:
            check_same_inputs(final, self._rldg_inputs)
            return super().download_and_prepare(download_dir=download_dir, download_config=download_config,
                                                **kwargs)
        self._rebuild_aside(final, download_dir, download_config, kwargs)

    def _rebuild_aside(self, final: Path, download_dir, download_config, kwargs) -> None:
        """Builds into `<config>/.rebuild-<version>-<random>/build/<version>`, then swaps."""
        import tensorflow_datasets as tfds
        from tensorflow_datasets.core import utils as tfds_utils

        root = final.parent / f"{REBUILD_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}"
        aside = root / "build" / final.name
        root.mkdir()
        (root / _OWNER_FILE).write_text(str(os.getpid()))
        config = dataclasses.replace(download_config,
                                     download_mode=tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS)
        log.info("rebuilding %s aside in %s; the old dataset stays until the new one is complete",
                 final, root)
        try:
            with tfds_utils.temporary_assignment(self, "_data_dir", str(aside)):
                super().download_and_prepare(download_dir=download_dir, download_config=config, **kwargs)
            swap_in(aside, final)
        finally:
            self.info.update_data_dir(str(final))
            shutil.rmtree(root, ignore_errors=True)
        log.info("replaced %s with the rebuilt dataset", final)

    def _download_and_prepare(self, dl_manager, download_config=None):
        # Runs with self.data_dir = TFDS's temporary folder: files written here appear atomically.
        result = super()._download_and_prepare(dl_manager, download_config=download_config)
        self._write_build_files(Path(os.fspath(self.data_dir)))
        return result


def swap_in(new: Path, final: Path) -> None:
    """Puts the finished folder `new` at `final` in one step; the old one ends up at `new`."""
    if not exchange_dirs(new, final):  # a file system without RENAME_EXCHANGE
        replace_dir(new, final)


def under_tfds_cli() -> bool:
    """True when running as the `tfds` command (e.g. `tfds build builders/...`)."""
    return Path(sys.argv[0] if sys.argv else "").name == "tfds"


@contextlib.contextmanager
def user_errors():
    """Under the `tfds` command, turns an RldgError (a user's mistake or damaged input, whose
    message says what and where) into a one-line exit (status 1; a message of several lines is
    joined into one) instead of absl's Python traceback;
    library callers (`tfds.load`, notebooks) get the exception."""
    try:
        yield
    except RldgError as exc:
        if not under_tfds_cli():
            raise
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise SystemExit(f"error: {' '.join(lines)}") from None
