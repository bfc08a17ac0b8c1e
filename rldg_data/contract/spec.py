"""The RLDS contract as code: field names, allowed values and the TFDS features.

Everything that writes or checks a dataset takes its names from here, so the contract has one
source. `features()` returns the TFDS `FeaturesDict` a builder declares in `_info()`; `DatasetSpec`
holds the sizes that vary between datasets (image size, wrist camera, state and action sizes).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

from rldg_data.errors import ConfigError

# Step fields, as flat paths ("observation/image" is steps/observation/image in the RLDS example).
IMAGE = "observation/image"
WRIST_IMAGE = "observation/wrist_image"
STATE = "observation/state"
PRIVILEGED_STATE = "observation/privileged_state"  # optional: simulator-only object/goal poses
ACTION = "action"
REWARD = "reward"
DISCOUNT = "discount"
IS_FIRST = "is_first"
IS_LAST = "is_last"
IS_TERMINAL = "is_terminal"
LANGUAGE_INSTRUCTION = "language_instruction"
SOURCE = "source"
STAGE = "stage"
# Dataset level: steps per second at which the episodes were recorded, kept in TFDS's
# metadata.json under this key (`rldg collect` -> collect.json rate_hz -> builders/rldg_rollouts;
# the LeRobot import keeps LeRobot's fps). Absent when unknown; `rldg export lerobot` uses it.
RATE_KEY = "fps"

# Episode metadata fields.
EPISODE_ID = "episode_id"
TASK = "task"
VARIANT = "variant"
SPLIT = "split"
POLICY_ID = "policy_id"
SUCCESS = "success"
EPISODE_RETURN = "episode_return"
LENGTH = "length"
SEED = "seed"
RECIPE_HASH = "recipe_hash"

STEPS = "steps"
EPISODE_METADATA = "episode_metadata"

# Who acted at a step.
SOURCE_RL = "rl"
SOURCE_HUMAN = "human"
SOURCE_INTERVENTION = "intervention"
SOURCE_SCRIPTED = "scripted"
SOURCES = (SOURCE_RL, SOURCE_HUMAN, SOURCE_INTERVENTION, SOURCE_SCRIPTED)

SPLITS = ("seen", "unseen")

ACTION_LOW, ACTION_HIGH = -1.0, 1.0

# dtype of every fixed-rank step field; image fields are uint8 [H, W, 3].
STEP_DTYPES: Mapping[str, Any] = {
    IMAGE: np.uint8,
    WRIST_IMAGE: np.uint8,
    STATE: np.float32,
    PRIVILEGED_STATE: np.float32,
    ACTION: np.float32,
    REWARD: np.float32,
    DISCOUNT: np.float32,
    IS_FIRST: np.bool_,
    IS_LAST: np.bool_,
    IS_TERMINAL: np.bool_,
    LANGUAGE_INSTRUCTION: np.str_,
    SOURCE: np.str_,
    STAGE: np.int32,
}
OPTIONAL_STEP_FIELDS = (WRIST_IMAGE, PRIVILEGED_STATE)
REQUIRED_STEP_FIELDS = tuple(k for k in STEP_DTYPES if k not in OPTIONAL_STEP_FIELDS)
IMAGE_FIELDS = (IMAGE, WRIST_IMAGE)
FLOAT_FIELDS = (STATE, PRIVILEGED_STATE, ACTION, REWARD, DISCOUNT)
VECTOR_FIELDS = (STATE, PRIVILEGED_STATE, ACTION)
TEXT_STEP_FIELDS = (LANGUAGE_INSTRUCTION, SOURCE)

# Python type of every metadata field.
METADATA_TYPES: Mapping[str, type] = {
    EPISODE_ID: str,
    TASK: str,
    VARIANT: str,
    SPLIT: str,
    POLICY_ID: str,
    SUCCESS: bool,
    EPISODE_RETURN: float,
    LENGTH: int,
    SEED: int,
    RECIPE_HASH: str,
}

DEFAULT_IMAGE_SIZE = 128


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """The sizes that vary between contract datasets.

    image_size: height and width of `observation/image` (and the wrist image, if any).
    wrist: whether steps carry `observation/wrist_image`.
    state_dim, action_dim: sizes of `observation/state` and `action`.
    image_encoding: "jpeg" (the contract's default: small, lossy) or "png" (lossless, bigger).
    privileged_dim: size of the optional `observation/privileged_state` (simulator object and goal
      poses that state-based RL specialists act on, kept so human episodes can be relabeled with a
      specialist's actions); 0 means the field is absent, as on a real robot.
    """

    image_size: int = DEFAULT_IMAGE_SIZE
    wrist: bool = False
    state_dim: int = 4
    action_dim: int = 4
    image_encoding: str = "jpeg"
    privileged_dim: int = 0

    def __post_init__(self) -> None:
        if self.image_size <= 0 or self.state_dim <= 0 or self.action_dim <= 0 or self.privileged_dim < 0:
            raise ConfigError(f"DatasetSpec sizes must be positive, got {self}")
        if self.image_encoding not in ("jpeg", "png"):
            raise ConfigError(f"image_encoding must be 'jpeg' or 'png', got {self.image_encoding!r}")

    def step_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-step shape of every step field of this spec (without the time axis)."""
        hw = (self.image_size, self.image_size, 3)
        shapes = {IMAGE: hw, STATE: (self.state_dim,), ACTION: (self.action_dim,)}
        if self.wrist:
            shapes[WRIST_IMAGE] = hw
        if self.privileged_dim:
            shapes[PRIVILEGED_STATE] = (self.privileged_dim,)
        for key in (REWARD, DISCOUNT, IS_FIRST, IS_LAST, IS_TERMINAL, LANGUAGE_INSTRUCTION, SOURCE, STAGE):
            shapes[key] = ()
        return shapes


def split_path(path: str) -> tuple[str, ...]:
    """'observation/image' -> ('observation', 'image')."""
    return tuple(path.split("/"))

