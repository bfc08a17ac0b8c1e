"""A contract `Episode` as the nested example a TFDS builder yields (features of `spec.features_for`).

Images are encoded here (JPEG or PNG, as the dataset's spec says) so TFDS stores the bytes as they
are. (`collectors.to_rlds.episode_to_example` does the same for collector logs; the core cannot
import collectors, so the import builders use this one.)
"""

from __future__ import annotations

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.io.images import encode_images


def episode_to_example(episode: Episode, image_encoding: str = "jpeg") -> dict:
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
