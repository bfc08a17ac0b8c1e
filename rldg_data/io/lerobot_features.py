"""How contract fields map to LeRobot v3.0 frame features (the one table both directions use).

Export and import read this table, so the names cannot drift apart: `observation/image` is the
video `observation.images.image`, `reward` is LeRobot's `next.reward`, `is_terminal` its
`next.done`; `source`, `stage` and `discount` are extra frame columns; `language_instruction` is
LeRobot's task (`task_index` into meta/tasks.parquet); `is_first`/`is_last` follow from
`frame_index` and the episode length. Episode metadata goes to meta/episodes as
`episode_metadata/<field>` columns (one row per episode, where LeRobot's `filter_episodes` sees it).
"""

from __future__ import annotations

from rldg_data.contract import spec

# contract step field -> LeRobot frame feature (vectors and scalars)
VECTOR_COLUMNS = {
    spec.ACTION: "action",
    spec.STATE: "observation.state",
    spec.PRIVILEGED_STATE: "observation.privileged_state",
}
SCALAR_COLUMNS = {
    spec.REWARD: ("next.reward", "float32"),
    spec.IS_TERMINAL: ("next.done", "bool"),
    spec.DISCOUNT: ("discount", "float32"),
    spec.SOURCE: ("source", "string"),
    spec.STAGE: ("stage", "int32"),
}
CAMERAS = {spec.IMAGE: "observation.images.image", spec.WRIST_IMAGE: "observation.images.wrist_image"}
EPISODE_METADATA_PREFIX = "episode_metadata/"


def vector_names(field: str, dim: int) -> list[str]:
    """Per-dimension names (LeRobot's `names`): the contract's x, y, z, gripper for 4-d vectors."""
    if dim == 4 and field in (spec.ACTION, spec.STATE):
        return ["x", "y", "z", "gripper"]
    short = field.split("/")[-1]
    return [f"{short}_{i}" for i in range(dim)]


def contract_features(dataset_spec: spec.DatasetSpec) -> dict[str, dict]:
    """info.json `features` (before the index columns and the video `info`) of a contract dataset."""
    shapes = dataset_spec.step_shapes()
    out: dict[str, dict] = {}
    for field, key in VECTOR_COLUMNS.items():
        if field in shapes:
            dim = shapes[field][0]
            out[key] = {"dtype": "float32", "shape": [dim], "names": vector_names(field, dim)}
    for field, key in CAMERAS.items():
        if field in shapes:
            out[key] = {"dtype": "video", "shape": list(shapes[field]),
                        "names": ["height", "width", "channels"]}
    for field, (key, dtype) in SCALAR_COLUMNS.items():
        out[key] = {"dtype": dtype, "shape": [1], "names": None}
    return out
