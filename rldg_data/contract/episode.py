"""`Episode`: one RLDS episode in memory as numpy arrays, and its contract check.

Steps are a flat mapping from contract field path ("observation/image", "action", ...) to an array
whose first axis is time. Metadata is an `EpisodeMetadata`. Transforms, writers, readers, Beam
stages and notebooks all pass `Episode`s around; `validate()` is the single place where a step or
metadata value is checked against the contract.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Optional

import numpy as np

from rldg_data.configs import check_keys, field_names
from rldg_data.contract import spec
from rldg_data.errors import ContractError, EpisodeValidationError


@dataclasses.dataclass(frozen=True)
class EpisodeMetadata:
    """The `episode_metadata` of the contract."""

    episode_id: str
    task: str = ""
    variant: str = ""
    split: str = "seen"
    policy_id: str = ""
    success: bool = False
    episode_return: float = 0.0
    length: int = 0
    seed: int = 0
    recipe_hash: str = ""

    def to_dict(self) -> dict:
        # every field is a scalar: a shallow copy is asdict's result without its deep copies
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping) -> "EpisodeMetadata":
        """Builds metadata from a mapping; raises ContractError naming a missing or unknown key."""
        episode_id = values.get(spec.EPISODE_ID)
        unknown = sorted(set(values) - set(field_names(cls)), key=str)
        check_keys(values, field_names(cls), "episode metadata", error=lambda message: ContractError(
            message, episode_id=episode_id, field=f"{spec.EPISODE_METADATA}/{unknown[0]}" if unknown else None))
        missing = [k for k in spec.METADATA_TYPES if k not in values]
        if missing:
            raise ContractError("missing metadata field", episode_id=episode_id,
                                field=f"{spec.EPISODE_METADATA}/{missing[0]}")
        return cls(**{k: spec.METADATA_TYPES[k](_plain(values[k])) for k in spec.METADATA_TYPES})


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclasses.dataclass
class Episode:
    """An RLDS episode: `steps` maps contract field paths to time-major arrays.

    Text step fields (`language_instruction`, `source`) are numpy unicode arrays. `missing_metadata`
    lists metadata fields that were absent when the episode was read (so `validate()` can report
    them instead of the reader failing on the first).
    """

    steps: dict[str, np.ndarray]
    metadata: EpisodeMetadata
    missing_metadata: tuple[str, ...] = ()

    def __len__(self) -> int:
        for key in (spec.ACTION, spec.IS_FIRST, spec.REWARD):
            if key in self.steps:
                return int(len(self.steps[key]))
        return int(len(next(iter(self.steps.values())))) if self.steps else 0

    @property
    def episode_id(self) -> str:
        return self.metadata.episode_id

    @property
    def actions(self) -> np.ndarray:
        return self.steps[spec.ACTION]

    @property
    def sources(self) -> np.ndarray:
        return self.steps[spec.SOURCE]

    def replace(self, steps: Optional[Mapping[str, np.ndarray]] = None, **metadata) -> "Episode":
        """A new Episode with some steps replaced (merged into the old ones) and/or metadata."""
        new_steps = dict(self.steps)
        if steps:
            new_steps.update(steps)
        new_meta = dataclasses.replace(self.metadata, **metadata) if metadata else self.metadata
        return Episode(new_steps, new_meta, self.missing_metadata)

    def spec(self) -> spec.DatasetSpec:
        """The DatasetSpec these steps fit (image size, wrist camera, state and action sizes)."""
        image = self.steps[spec.IMAGE]
        return spec.DatasetSpec(
            image_size=int(image.shape[1]),
            wrist=spec.WRIST_IMAGE in self.steps,
            state_dim=int(self.steps[spec.STATE].shape[1]),
            action_dim=int(self.steps[spec.ACTION].shape[1]),
            privileged_dim=(int(self.steps[spec.PRIVILEGED_STATE].shape[1])
                            if spec.PRIVILEGED_STATE in self.steps else 0),
        )


def make_steps(
    *,
    images: np.ndarray,
    states: np.ndarray,
    actions: np.ndarray,
    language_instruction: str,
    source: str | Iterable[str],
    rewards: Optional[np.ndarray] = None,
    stages: Optional[np.ndarray] = None,
    wrist_images: Optional[np.ndarray] = None,
    privileged_states: Optional[np.ndarray] = None,
    terminal: bool = True,
) -> dict[str, np.ndarray]:
    """Assembles the step arrays of a contract episode of length T = len(actions).

    RLDS alignment: step t holds the observation seen before action t; the last step carries the
    final observation (its action is whatever the caller puts there, conventionally zeros).
    `terminal` marks the last step as a true termination (success or failure ends the task).
    """
    n = len(actions)
    first = np.zeros(n, np.bool_)
    last = np.zeros(n, np.bool_)
    if n:
        first[0] = True
        last[-1] = True
    steps = {
        spec.IMAGE: np.asarray(images, np.uint8),
        spec.STATE: np.asarray(states, np.float32),
        spec.ACTION: np.asarray(actions, np.float32),
        spec.REWARD: np.zeros(n, np.float32) if rewards is None else np.asarray(rewards, np.float32),
        spec.DISCOUNT: np.ones(n, np.float32),
        spec.IS_FIRST: first,
        spec.IS_LAST: last,
        spec.IS_TERMINAL: last.copy() if terminal else np.zeros(n, np.bool_),
        spec.LANGUAGE_INSTRUCTION: text_array([language_instruction] * n),
        spec.SOURCE: text_array([source] * n if isinstance(source, str) else list(source)),
        spec.STAGE: np.zeros(n, np.int32) if stages is None else np.asarray(stages, np.int32),
    }
    if wrist_images is not None:
        steps[spec.WRIST_IMAGE] = np.asarray(wrist_images, np.uint8)
    if privileged_states is not None:
        steps[spec.PRIVILEGED_STATE] = np.asarray(privileged_states, np.float32)
    return steps


def text_array(values: Iterable[str]) -> np.ndarray:
    """A numpy unicode array of per-step text (never truncated: `np.full(n, s, np.str_)` is)."""
    return np.asarray(list(values), dtype=np.str_)


def check_unique_ids(episodes: Iterable[Episode], file: Optional[str] = None) -> list[ContractError]:
    """Violations for every episode id seen more than once (the contract wants them unique)."""
    seen: set[str] = set()
    found = []
    for episode in episodes:
        if episode.episode_id in seen:
            found.append(ContractError("duplicate episode_id", file=file,
                                       episode_id=episode.episode_id,
                                       field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}",
                                       hint="episode ids must be globally unique"))
        seen.add(episode.episode_id)
    return found
