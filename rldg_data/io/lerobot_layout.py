"""The LeRobot v3.0 dataset layout, as LeRobot's own writer lays it out (facts, no LeRobot import).

Read from huggingface/lerobot `src/lerobot/datasets/utils.py`, `feature_utils.py`,
`dataset_metadata.py` and `dataset_writer.py` (codebase version "v3.0"): file paths and their
templates, the chunk/file numbering, the five index columns every frame carries, and how an
`info.json` feature becomes a `datasets` feature (which is also the parquet schema LeRobot writes
and reads back with `datasets.Dataset.from_parquet(features=...)`).
"""

from __future__ import annotations

import json
from typing import Mapping

from rldg_data.errors import ContractError

CODEBASE_VERSION = "v3.0"

INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
CHUNK_FILE_PATTERN = "chunk-{chunk_index:03d}/file-{file_index:03d}"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE_PATTERN + ".parquet"
DATA_PATH = "data/" + CHUNK_FILE_PATTERN + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE_PATTERN + ".mp4"

DEFAULT_CHUNK_SIZE = 1000  # files per chunk folder
DEFAULT_DATA_FILE_SIZE_IN_MB = 100
DEFAULT_VIDEO_FILE_SIZE_IN_MB = 200
DEFAULT_TOLERANCE_S = 1e-4  # LeRobotDataset's default timestamp tolerance

# The index columns LeRobot adds to every frame, in the order its features dict ends with them.
INDEX_FEATURES: Mapping[str, dict] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}

IMAGE_KEY_PREFIX = "observation.images."


def next_chunk_file(chunk_index: int, file_index: int, chunks_size: int) -> tuple[int, int]:
    """The (chunk, file) after this one: files count up to `chunks_size` per chunk folder."""
    if file_index == chunks_size - 1:
        return chunk_index + 1, 0
    return chunk_index, file_index + 1


def hf_features(features: Mapping[str, dict]):
    """The `datasets.Features` of the frame columns declared in info.json (videos excluded).

    As LeRobot maps them: shape (1,) -> Value, 1-D -> fixed-length List, 2-5-D -> ArrayND,
    image -> Image. Raises ValueError naming the feature for anything else.
    """
    import datasets

    out = {}
    for key, ft in features.items():
        dtype, shape = ft.get("dtype"), tuple(ft.get("shape") or ())
        if dtype == "video":
            continue
        if dtype == "image":
            out[key] = datasets.Image()
        elif shape == (1,):
            out[key] = datasets.Value(dtype=dtype)
        elif len(shape) == 1:
            out[key] = datasets.Sequence(length=shape[0], feature=datasets.Value(dtype=dtype))
        elif 2 <= len(shape) <= 5:
            array = getattr(datasets, f"Array{len(shape)}D")
            out[key] = array(shape=shape, dtype=dtype)
        else:
            raise ContractError(f"feature {key!r} has an unsupported shape {list(shape)}")
    return datasets.Features(out)


_ARROW_TYPES = {"float32": "float32", "float64": "float64", "int32": "int32", "int64": "int64",
                "int16": "int16", "int8": "int8", "uint8": "uint8", "bool": "bool_", "string": "string"}


def arrow_schema(features: Mapping[str, dict]):
    """The parquet (arrow) schema of the data files for these info.json features, with the
    `huggingface` metadata `datasets` writes: exactly `hf_features(features).arrow_schema` (a test
    checks it), built with pyarrow alone so that exporting does not import `datasets` (BENCHMARKS.md, "Design measurements").
    Features other than scalars and vectors of plain dtypes go through `datasets`."""
    import pyarrow as pa

    fields, described = [], {}
    for key, ft in features.items():
        dtype, shape = ft.get("dtype"), tuple(ft.get("shape") or ())
        if dtype == "video":
            continue
        if dtype not in _ARROW_TYPES or len(shape) != 1:
            return hf_features(features).arrow_schema
        value = getattr(pa, _ARROW_TYPES[dtype])()
        scalar = {"dtype": dtype, "_type": "Value"}
        if shape == (1,):
            fields.append(pa.field(key, value))
            described[key] = scalar
        else:
            fields.append(pa.field(key, pa.list_(value, shape[0])))
            described[key] = {"feature": scalar, "length": shape[0], "_type": "List"}
    return pa.schema(fields, metadata={"huggingface": json.dumps({"info": {"features": described}})})


def video_keys(features: Mapping[str, dict]) -> list[str]:
    return [k for k, ft in features.items() if ft.get("dtype") == "video"]
