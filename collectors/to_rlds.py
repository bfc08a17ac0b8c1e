"""Collector logs -> TFDS examples of the RLDS contract, for `builders/rldg_rollouts`.

`iter_examples(roots, dataset_spec)` reads every completed episode log, checks it against the
contract and the dataset's spec (ContractError naming the log folder, episode, step and field),
and yields `(episode_id, example)` in the nested-dict form a TFDS builder yields. The example is
columnar (one array per step field, not a list of per-step dicts) and its frames are already JPEG
(or PNG) bytes, which TFDS stores as they are: the builder does no per-step Python work beyond what
TFDS itself needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from collectors.logs import episode_logs, read_episode
from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError
from rldg_data.io.images import encode_images


def episode_to_example(episode: Episode, image_encoding: str = "jpeg") -> dict:
    """The TFDS nested example of an `Episode` (features of `rldg_data.contract.spec.features`)."""
    steps: dict = {}
    for name, values in episode.steps.items():
        if name in spec.IMAGE_FIELDS:
            values = encode_images(values, image_encoding)
        elif name in spec.TEXT_STEP_FIELDS:
            values = [str(v) for v in values]
        node = steps
        *parents, leaf = spec.split_path(name)
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = values
    return {spec.STEPS: steps, spec.EPISODE_METADATA: episode.metadata.to_dict()}


def iter_examples(roots: Iterable[str | os.PathLike], dataset_spec: spec.DatasetSpec
                  ) -> Iterator[tuple[str, dict]]:
    """(episode_id, example) of every completed log under `roots`, each checked against the
    contract and `dataset_spec`; a repeated episode id is an error naming both logs."""
    seen: dict[str, Path] = {}
    for path in episode_logs(roots):
        episode = read_episode(path)
        found = episode.violations(dataset_spec)
        if found:
            raise found[0].located(file=str(path))
        if episode.episode_id in seen:
            raise ContractError(f"duplicate episode_id (also in {seen[episode.episode_id]})",
                                file=str(path), episode_id=episode.episode_id,
                                field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}",
                                hint="two log folders hold the same episode; build from one of them")
        seen[episode.episode_id] = path
        yield episode.episode_id, episode_to_example(episode, dataset_spec.image_encoding)
