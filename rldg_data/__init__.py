"""rldg_data: the core of rldg-data, on which every other package stands.

The RLDS contract (`spec`), episodes in memory (`episode`) and their check (`contract`), writing and
reading TFDS datasets on disk (`writer`, `reader`), dataset summaries and validation (`validate`),
and the `rldg` command line (`cli`). Pure episode transforms, Beam pipelines, statistics and loaders
live here too. This package imports none of builders, collectors, trainers, viz or robot_io.
"""

from rldg_data.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.errors import ContractError, DatasetError, EpisodeValidationError, RldgError
from rldg_data.spec import DatasetSpec

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
