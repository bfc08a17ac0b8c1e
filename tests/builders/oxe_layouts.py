"""Synthetic Open X-Embodiment datasets with exactly the features of three real ones.

The feature structures are those the TFDS catalog lists for `fractal20220817_data` (RT-1: a dict
action of world_vector, rotation_delta, gripper_closedness_action, base moves and terminate_episode;
episode-level `aspects` and `attributes`), `bridge` (open_gripper as a bool) and `viola` (a scalar
gripper_closedness_action, 1 = close, that OXE's standardization inverts), with the catalog's image
sizes and JPEG images as the OXE release stores them. Values are random; each builder's name is the
catalog's, so `build(Builder, data_dir)` lays them out as `data_dir/<name>/0.1.0`, where `tfds`
would download them. `raw_episode(Builder, i)` gives the raw step values of episode i, for tests
that compare an import with the parts it was built from.
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

f = tfds.features
NUM_EPISODES = 3


def _t(shape, dtype=np.float32):
    return f.Tensor(shape=shape, dtype=dtype)


def _image(h, w):
    return f.Image(shape=(h, w, 3), dtype=np.uint8, encoding_format="jpeg")


def _length(i: int) -> int:
    return 4 + i


def episode_of_length(n: int) -> int:
    """Which episode has n steps (lengths are unique: TFDS reads episodes in an order of its own)."""
    return n - 4


class _OxeLayout(tfds.core.GeneratorBasedBuilder):
    VERSION = tfds.core.Version("0.1.0")
    STEP_FEATURES: dict = {}
    EPISODE_FEATURES: dict = {}

    def _info(self):
        steps = f.Dataset({**self.STEP_FEATURES, "is_first": np.bool_, "is_last": np.bool_,
                           "is_terminal": np.bool_, "reward": f.Scalar(dtype=np.float32)})
        return self.dataset_info_from_configs(features=f.FeaturesDict({**self.EPISODE_FEATURES, "steps": steps}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i in range(NUM_EPISODES):
            raw = raw_episode(type(self), i)
            n = _length(i)
            steps = []
            for t in range(n):
                step = _take(raw["steps"], t)
                step.update(is_first=t == 0, is_last=t == n - 1, is_terminal=t == n - 1,
                            reward=np.float32(t == n - 1 and i != 1))
                steps.append(step)
            yield f"episode_{i}", {**raw["episode"], "steps": steps}


def _take(tree, t):
    return {k: _take(v, t) if isinstance(v, dict) else v[t] for k, v in tree.items()}


def _random(spec, n, rng):
    """n random values for a feature spec (a dict of them recursively)."""
    if isinstance(spec, dict):
        return {k: _random(v, n, rng) for k, v in spec.items()}
    if isinstance(spec, f.Image):
        h, w, _ = spec.shape
        base = rng.integers(0, 255, (n, 1, 1, 3), dtype=np.uint8)
        return np.broadcast_to(base, (n, h, w, 3)).copy()
    if isinstance(spec, f.Text):
        return np.asarray([f"pick the block {t % 2}" for t in range(n)], dtype=object)
    dtype = np.dtype(spec.np_dtype)
    shape = (n, *spec.shape)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 2, shape).astype(dtype)
    return rng.uniform(-1, 1, shape).astype(dtype)


def raw_episode(builder_cls, i: int) -> dict:
    """The raw values of episode i: {"steps": {...[T, ...]}, "episode": {...}} (deterministic)."""
    rng = np.random.default_rng(1000 + i)
    n = _length(i)
    steps = _random(builder_cls.STEP_FEATURES, n, rng)
    builder_cls.adjust(steps, rng)
    episode = {k: {kk: _random(vv, 1, rng) for kk, vv in v.items()} for k, v in builder_cls.EPISODE_FEATURES.items()}
    episode = {k: {kk: (vv[0].decode() if isinstance(vv[0], bytes) else vv[0]) for kk, vv in v.items()}
               for k, v in episode.items()}
    return {"steps": steps, "episode": episode}


class Fractal20220817Data(_OxeLayout):
    """RT-1 (fractal20220817_data) layout."""

    STEP_FEATURES = {
        "action": {
            "base_displacement_vector": _t((2,)),
            "base_displacement_vertical_rotation": _t((1,)),
            "gripper_closedness_action": _t((1,)),
            "rotation_delta": _t((3,)),
            "terminate_episode": _t((3,), np.int32),
            "world_vector": _t((3,)),
        },
        "observation": {
            "base_pose_tool_reached": _t((7,)),
            "gripper_closed": _t((1,)),
            "gripper_closedness_commanded": _t((1,)),
            "height_to_bottom": _t((1,)),
            "image": _image(256, 320),
            "natural_language_embedding": _t((512,)),
            "natural_language_instruction": f.Text(),
            "orientation_box": _t((2, 3)),
            "orientation_start": _t((4,)),
            "robot_orientation_positions_box": _t((3, 3)),
            "rotation_delta_to_go": _t((3,)),
            "src_rotation": _t((4,)),
            "vector_to_go": _t((3,)),
            "workspace_bounds": _t((3, 3)),
        },
    }
    EPISODE_FEATURES = {
        "aspects": {k: f.Scalar(dtype=np.bool_) for k in
                    ("already_success", "feasible", "has_aspects", "success", "undesirable")},
        "attributes": {**{k: f.Scalar(dtype=np.int64) for k in
                          ("collection_mode", "data_type", "env", "location", "objects_family", "task_family")},
                       **{f"{k}_name": f.Text() for k in
                          ("collection_mode", "data_type", "env", "location", "objects_family", "task_family")}},
    }

    @staticmethod
    def adjust(steps, rng):
        """RT-1's ranges: world_vector in [-1, 1], rotation_delta in [-pi/2, pi/2], the relative
        gripper command in {-1, 0, 1} (+1 close)."""
        action = steps["action"]
        action["rotation_delta"] = (action["rotation_delta"] * np.pi / 2).astype(np.float32)
        action["gripper_closedness_action"] = rng.integers(-1, 2, action["gripper_closedness_action"].shape
                                                           ).astype(np.float32)


class Bridge(_OxeLayout):
    """Bridge (OXE copy) layout."""

    STEP_FEATURES = {
        "action": {
            "open_gripper": f.Scalar(dtype=np.bool_),
            "rotation_delta": _t((3,)),
            "terminate_episode": f.Scalar(dtype=np.float32),
            "world_vector": _t((3,)),
        },
        "observation": {
            "image": _image(480, 640),
            "natural_language_embedding": _t((512,)),
            "natural_language_instruction": f.Text(),
            "state": _t((7,)),
        },
    }

    @staticmethod
    def adjust(steps, rng):
        """Bridge's per-step deltas are small: world_vector within 0.05 m, rotations within 0.25 rad."""
        steps["action"]["world_vector"] = (steps["action"]["world_vector"] * 0.05).astype(np.float32)
        steps["action"]["rotation_delta"] = (steps["action"]["rotation_delta"] * 0.25).astype(np.float32)


class Viola(_OxeLayout):
    """VIOLA layout: a scalar gripper_closedness_action (-1 open, 1 close)."""

    STEP_FEATURES = {
        "action": {
            "gripper_closedness_action": f.Scalar(dtype=np.float32),
            "rotation_delta": _t((3,)),
            "terminate_episode": f.Scalar(dtype=np.float32),
            "world_vector": _t((3,)),
        },
        "observation": {
            "agentview_rgb": _image(224, 224),
            "ee_states": _t((16,)),
            "eye_in_hand_rgb": _image(224, 224),
            "gripper_states": _t((1,)),
            "joint_states": _t((7,)),
            "natural_language_embedding": _t((512,)),
            "natural_language_instruction": f.Text(),
        },
    }

    @staticmethod
    def adjust(steps, rng):
        steps["action"]["gripper_closedness_action"] = rng.choice([-1.0, 1.0], len(steps["action"]["world_vector"])
                                                                  ).astype(np.float32)


LAYOUTS = {"fractal": Fractal20220817Data, "bridge": Bridge, "viola": Viola}


def build(builder_cls, data_dir) -> str:
    """Writes the synthetic dataset under data_dir/<name>/0.1.0 and returns that folder."""
    builder = builder_cls(data_dir=str(data_dir))
    builder.download_and_prepare()
    return str(builder.data_dir)
