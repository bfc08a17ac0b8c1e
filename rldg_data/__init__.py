"""rldg_data: the core of rldg-data, on which every other package stands.

Subpackages along the flow of a dataset: `contract` (the RLDS spec, episodes in memory, their
check, `rldg validate`), `io` (reading and writing TFDS datasets, records, frames, atomic writes),
`transforms` (pure episode transforms), `mix` (recipes and the Beam mix pipeline, `rldg mix`),
`stats` (dataset statistics, `rldg stats`), `loaders` (training loaders), `sharing` (checksummed
archives); `errors` holds the error classes, `cli` the `rldg` command line and `cli_options` the
options it derives from config dataclasses. This package imports none of builders, collectors,
trainers, viz or robot_io.

The public API, as `rlds` exports its own (names load on first use, so `import rldg_data` stays
light: numpy only, no TensorFlow, Beam or torch):

    ds = rldg_data.open_dataset("data/mix/1.0.0")              # its spec, shards, episode counts
    episodes = rldg_data.read_episodes(ds.path, "train")      # or iter_episodes(...): validated
    rldg_data.write_dataset(episodes, "out", "copy")          # atomic: temp folder, then rename
    rldg_data.validate_dataset("out/copy")                    # every contract violation, located
    recipe = rldg_data.load_recipe("mix.yaml")                # a checked Recipe (RecipeError names the key)
    rldg_data.build_mix(recipe, "data")                       # the Beam mix, as `rldg mix`
    stats = rldg_data.dataset_statistics(["data/mix"])        # the one statistics path
    loader = rldg_data.RLDSLoader(["data/mix"], rldg_data.LoaderConfig(batch_size=32))
"""

from __future__ import annotations

import importlib

from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.contract.spec import DatasetSpec
from rldg_data.errors import (ConfigError, ContractError, DatasetError, EpisodeValidationError, RecipeError,
                              RldgError, UnavailableError, UnsafeInputError)

__version__ = "0.1.0"

# name -> module that defines it; loaded on first attribute access (PEP 562).
_LAZY = {
    "open_dataset": "rldg_data.io.reader",
    "iter_episodes": "rldg_data.io.reader",
    "read_episodes": "rldg_data.io.reader",
    "write_dataset": "rldg_data.io.writer",
    "DatasetWriter": "rldg_data.io.writer",
    "validate_dataset": "rldg_data.validation.validate",
    "Recipe": "rldg_data.mix.recipe",
    "load_recipe": "rldg_data.mix.recipe",
    "recipe_from_dict": "rldg_data.mix.recipe",
    "build_mix": "rldg_data.mix.pipeline",
    "dataset_statistics": "rldg_data.stats.dataset",
    "LoaderConfig": "rldg_data.loaders.config",
    "RLDSLoader": "rldg_data.loaders.pipeline",
}

__all__ = sorted([
    "ConfigError", "ContractError", "DatasetError", "DatasetSpec", "Episode", "EpisodeMetadata",
    "EpisodeValidationError", "RecipeError", "RldgError", "UnavailableError", "UnsafeInputError",
    "make_steps", *_LAZY,
])


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rldg_data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
