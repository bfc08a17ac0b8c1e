"""Collector logs -> contract episodes and TFDS examples of the RLDS contract.

`iter_readable_episodes(roots)` is what `builders/rldg_rollouts` builds from (the builder base,
`rldg_data.io.builder_base`, checks and encodes them). `iter_examples(roots, dataset_spec)` reads every completed episode log, checks it against the
contract and the dataset's spec (ContractError naming the log folder, episode, step and field),
and yields `(episode_id, example)` in the nested-dict form a TFDS builder yields. The example is
columnar (one array per step field, not a list of per-step dicts) and its frames are already JPEG
(or PNG) bytes, which TFDS stores as they are: the builder does no per-step Python work beyond what
TFDS itself needs. The example and the check are the codec's (`rldg_data.io.codec.features_dict`,
`rldg_data.contract.check.episode_violations`), the same every other writer and reader of the toolkit uses.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable, Iterator, Optional

from collectors.logs import episode_logs, read_episode
from rldg_data.contract.check import episode_violations
from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError
from rldg_data.io.codec import features_dict

log = logging.getLogger(__name__)


def iter_readable_episodes(roots: Iterable[str | os.PathLike],
                           skipped: Optional[list[ContractError]] = None) -> Iterator[tuple[Episode, Path]]:
    """(episode, log folder) of every completed log under `roots`, unchecked (the builder base
    checks them). A log that cannot be read (damaged: truncated or corrupt file, missing metadata,
    an outcome file that disagrees with it) raises its ContractError, unless a `skipped` list is
    given: then the error is appended to it and the log left out."""
    for path in episode_logs(roots):
        try:
            episode = read_episode(path)
        except ContractError as exc:
            if skipped is None:
                raise
            log.warning("skipping damaged log: %s", exc)
            skipped.append(exc)
            continue
        yield episode, path


def iter_examples(roots: Iterable[str | os.PathLike], dataset_spec: spec.DatasetSpec,
                  skipped: Optional[list[ContractError]] = None) -> Iterator[tuple[str, dict]]:
    """(episode_id, example) of every completed log under `roots`, each checked against the
    contract and `dataset_spec`; a repeated episode id is an error naming both logs. Damaged logs
    as `iter_readable_episodes`; contract violations of a readable log are always errors."""
    seen: dict[str, Path] = {}
    for episode, path in iter_readable_episodes(roots, skipped):
        found = episode_violations(episode, dataset_spec, file=str(path))
        if found:
            raise found[0]
        if episode.episode_id in seen:
            raise ContractError(f"duplicate episode_id (also in {seen[episode.episode_id]})",
                                file=str(path), episode_id=episode.episode_id,
                                field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}",
                                hint="two log folders hold the same episode; build from one of them")
        seen[episode.episode_id] = path
        yield episode.episode_id, features_dict(episode, dataset_spec.image_encoding)
