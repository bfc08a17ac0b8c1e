"""rldg_data: the core of rldg-data, on which every other package stands.

Subpackages along the flow of a dataset: `contract` (the RLDS spec, episodes in memory, their
check, `rldg validate`), `io` (reading and writing TFDS datasets, records, frames, atomic writes),
`transforms` (pure episode transforms), `mix` (recipes and the Beam mix pipeline, `rldg mix`),
`stats` (dataset statistics, `rldg stats`), `loaders` (training loaders), `sharing` (checksummed
archives); `errors` holds the error classes and `cli` the `rldg` command line. This package
imports none of builders, collectors, trainers, viz or robot_io.
"""

from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.errors import ContractError, DatasetError, EpisodeValidationError, RldgError
from rldg_data.contract.spec import DatasetSpec

__version__ = "0.1.0"

__all__ = [
    "ContractError",
    "DatasetError",
    "DatasetSpec",
    "Episode",
    "EpisodeMetadata",
    "EpisodeValidationError",
    "RldgError",
    "make_steps",
]
