"""Reading a LeRobot v3.0 folder: validate everything first, then stream episodes.

`open_lerobot(root)` checks, before any output is written: meta/info.json (codebase_version v3.x,
fps, the index features), meta/tasks.parquet, the meta/episodes rows (index ranges, video from/to
timestamps), every data file's parquet schema against the features info.json declares, and that
every video file referenced exists. `LeRobotFolder.iter_frames()` then yields each episode's frame
columns (checking row count, frame_index, index and that every timestamp is frame_index / fps,
within LeRobot's 1e-4 s) with its camera frames: a `video` feature decoded once, front to back, by
PyAV at `from_timestamp + timestamp`; an `image` feature (LeRobot's `use_videos=False`) from the
PNG bytes LeRobot stores in the data parquet. Every error is a ContractError naming the file,
episode and field.

The layouts LeRobot 0.4.x writes, all read here (tests/data/lerobot_written/ holds datasets made
by LeRobot 0.4.4's own `LeRobotDataset.create` / `add_frame` / `save_episode` / `finalize`):
meta/tasks.parquet with the task strings as the pandas index (unnamed: `__index_level_0__`),
cameras as videos or as images in the parquet, several episodes per data/video file.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from rldg_data.errors import ContractError
from rldg_data.io import lerobot_layout as layout
from rldg_data.io.video import SequentialFrameReader

_EPISODE_COLUMNS = ("episode_index", "length", "data/chunk_index", "data/file_index",
                    "dataset_from_index", "dataset_to_index")


@dataclasses.dataclass
class EpisodeFrames:
    """One LeRobot episode: its meta/episodes row, frame columns and decoded camera frames."""

    row: dict
    columns: dict[str, np.ndarray]
    cameras: dict[str, np.ndarray]
    tasks: list[str]  # the task (instruction) of every frame

    @property
    def index(self) -> int:
        return int(self.row["episode_index"])


@dataclasses.dataclass
class LeRobotFolder:
    """A validated LeRobot v3.0 dataset folder."""

    root: Path
    info: dict
    tasks: dict[int, str]
    episodes: list[dict]
    tolerance_s: float = layout.DEFAULT_TOLERANCE_S

    @property
    def fps(self) -> int:
        return int(self.info["fps"])

    @property
    def features(self) -> dict:
        return self.info["features"]

    @property
    def video_keys(self) -> list[str]:
        return layout.video_keys(self.features)

    @property
    def image_keys(self) -> list[str]:
        """Cameras stored as images (PNG bytes) in the data parquet rather than as video."""
        return [k for k, ft in self.features.items() if ft.get("dtype") == "image"]

    @property
    def camera_keys(self) -> list[str]:
        return self.video_keys + self.image_keys

    def stats(self) -> dict:
        path = self.root / layout.STATS_PATH
        if not path.is_file():
            raise ContractError("stats file missing (needed for action from_stats)", file=str(path))
        return json.loads(path.read_text())

    def data_path(self, row: dict) -> Path:
        return self.root / self.info["data_path"].format(chunk_index=int(row["data/chunk_index"]),
                                                         file_index=int(row["data/file_index"]))

    def video_path(self, row: dict, key: str) -> Path:
        return self.root / self.info["video_path"].format(
            video_key=key, chunk_index=int(row[f"videos/{key}/chunk_index"]),
            file_index=int(row[f"videos/{key}/file_index"]))

    def iter_frames(self, cameras: Optional[list[str]] = None,
                    episodes: Optional[range] = None) -> Iterator[EpisodeFrames]:
        """Episodes in order (all, or those in `episodes`), with the frames of `cameras` (default:
        every video and image feature)."""
        cameras = self.camera_keys if cameras is None else cameras
        readers: dict[str, tuple[Path, SequentialFrameReader]] = {}
        rows = self.episodes if episodes is None else [self.episodes[i] for i in episodes]
        try:
            for row in rows:
                columns = self._read_rows(row)
                n = int(row["length"])
                frames = {}
                for key in cameras:
                    if key in self.image_keys:
                        frames[key] = _decode_images(columns[key], self.data_path(row), row, key)
                        continue
                    path = self.video_path(row, key)
                    if key not in readers or readers[key][0] != path:
                        if key in readers:
                            readers[key][1].close()
                        readers[key] = (path, SequentialFrameReader(path, key, self.tolerance_s))
                    frames[key] = readers[key][1].take(float(row[f"videos/{key}/from_timestamp"]), n, self.fps,
                                                       f"episode_index {row['episode_index']}")
                tasks = [self.tasks[int(t)] for t in columns["task_index"]]
                yield EpisodeFrames(row, columns, frames, tasks)
        finally:
            for _, reader in readers.values():
                reader.close()

    def _read_rows(self, row: dict) -> dict[str, np.ndarray]:
        import pyarrow.parquet as pq

        path, ep = self.data_path(row), int(row["episode_index"])
        table = pq.read_table(path, filters=[("episode_index", "=", ep)])
        where = dict(file=str(path), episode_id=f"episode_index {ep}")
        n = int(row["length"])
        if table.num_rows != n:
            raise ContractError(f"{table.num_rows} rows, meta/episodes says length {n}", field="episode_index",
                                **where)
        columns = {}
        for name in table.column_names:
            column = table.column(name)
            if column.type.__class__.__name__ == "FixedSizeListType":
                values = column.combine_chunks()
                columns[name] = values.values.to_numpy(zero_copy_only=False).reshape(n, -1)
            else:
                columns[name] = column.to_numpy(zero_copy_only=False)
        self._check_indices(columns, row, n, where)
        return columns

    def _check_indices(self, columns: dict, row: dict, n: int, where: dict) -> None:
        frame_index = columns["frame_index"]
        bad = np.flatnonzero(frame_index != np.arange(n))
        if len(bad):
            raise ContractError(f"frame_index {frame_index[bad[0]]}, expected {bad[0]}", step=int(bad[0]),
                                field="frame_index", **where)
        index = columns["index"]
        start = int(row["dataset_from_index"])
        bad = np.flatnonzero(index != np.arange(start, start + n))
        if len(bad):
            raise ContractError(f"index {index[bad[0]]}, expected {start + bad[0]} (dataset_from_index + "
                                "frame_index)", step=int(bad[0]), field="index", **where)
        ts = columns["timestamp"].astype(np.float64)
        off_grid = np.abs(ts * self.fps - np.round(ts * self.fps)) / self.fps > self.tolerance_s
        wrong = np.abs(ts - frame_index / self.fps) > self.tolerance_s
        bad = np.flatnonzero(off_grid | wrong)
        if len(bad):
            k = int(bad[0])
            reason = "is off the 1/fps grid" if off_grid[k] else "is not frame_index / fps"
            raise ContractError(f"timestamp {ts[k]:.6f} s {reason} (fps {self.fps}, tolerance "
                                f"{self.tolerance_s} s)", step=k, field="timestamp", **where,
                                hint="LeRobot finds video frames at from_timestamp + timestamp")


def _decode_images(cells, path: Path, row: dict, key: str) -> np.ndarray:
    """[T, H, W, 3] uint8 frames of an `image` feature: each cell is {"bytes": PNG/JPEG, "path": ...}
    as `datasets.Image` stores it; a cell without bytes is an error naming the frame."""
    import io

    from PIL import Image

    frames = []
    for t, cell in enumerate(cells):
        data = cell.get("bytes") if isinstance(cell, dict) else None
        if not data:
            raise ContractError("image cell holds no bytes", file=str(path), episode_id=f"episode_index "
                                f"{row['episode_index']}", step=t, field=key)
        try:
            with Image.open(io.BytesIO(data)) as image:
                frames.append(np.asarray(image.convert("RGB")))
        except (OSError, ValueError) as exc:
            raise ContractError(f"undecodable image: {exc}", file=str(path),
                                episode_id=f"episode_index {row['episode_index']}", step=t, field=key) from exc
    return np.stack(frames)


def open_lerobot(root: str | Path, tolerance_s: float = layout.DEFAULT_TOLERANCE_S) -> LeRobotFolder:
    """Validates the LeRobot v3.0 folder `root` (see the module docstring) and returns it."""
    root = Path(root)
    info = _read_info(root)
    tasks = _read_tasks(root)
    episodes = _read_episodes(root, info)
    folder = LeRobotFolder(root, info, tasks, episodes, tolerance_s)
    _check_files(folder)
    return folder


def _read_info(root: Path) -> dict:
    path = root / layout.INFO_PATH
    if not path.is_file():
        raise ContractError("not a LeRobot dataset folder: meta/info.json is missing", file=str(path))
    try:
        info = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ContractError(f"unreadable JSON: {exc}", file=str(path)) from exc
    version = str(info.get("codebase_version", ""))
    match = re.fullmatch(r"v(\d+)\.(\d+)", version)
    if not match or int(match.group(1)) != 3:
        hint = ("convert it with LeRobot's `python -m lerobot.scripts.convert_dataset_v21_to_v30` first"
                if version.startswith("v2") else "this reader knows LeRobot's v3.x layout only")
        raise ContractError(f"unknown codebase_version {version!r} (expected v3.0)", file=str(path),
                            field="codebase_version", hint=hint)
    fps = info.get("fps")
    if not isinstance(fps, int) or fps <= 0:
        raise ContractError(f"fps must be a positive integer, got {fps!r}", file=str(path), field="fps")
    features = info.get("features")
    if not isinstance(features, dict):
        raise ContractError("features is missing", file=str(path), field="features")
    for key in layout.INDEX_FEATURES:
        if key not in features:
            raise ContractError("index feature missing", file=str(path), field=f"features.{key}")
    for key in ("data_path",) + (("video_path",) if layout.video_keys(features) else ()):
        if not isinstance(info.get(key), str):
            raise ContractError(f"{key} template missing", file=str(path), field=key)
    try:
        layout.hf_features(features)
    except (ValueError, TypeError, KeyError) as exc:
        raise ContractError(f"features not understood: {exc}", file=str(path), field="features") from exc
    return info


def _read_tasks(root: Path) -> dict[int, str]:
    """task_index -> task string from meta/tasks.parquet, as LeRobot reads it (`pd.read_parquet`:
    the pandas metadata's index columns become the DataFrame's index).

    LeRobot 0.4.x writes a DataFrame of `task_index` indexed by the task strings: with an unnamed
    index (what `LeRobotDataset.save_episode` writes) the strings are the column
    `__index_level_0__`; with an index named `task`, the column `task`. A plain `task` column (our
    own export) reads the same way.
    """
    import pyarrow.parquet as pq

    path = root / layout.TASKS_PATH
    if not path.is_file():
        raise ContractError("tasks file is missing", file=str(path))
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several error types for a damaged file
        raise ContractError(f"unreadable parquet: {exc}", file=str(path)) from exc
    names = table.column_names
    if "task_index" not in names:
        raise ContractError(f"column task_index missing (columns: {names})", file=str(path), field="task_index")
    text_column = _task_text_column(table)
    if text_column is None:
        raise ContractError(f"no task strings: neither a task column nor a string index column (columns: {names})",
                            file=str(path), field="task")
    indices = table.column("task_index").to_pylist()
    texts = table.column(text_column).to_pylist()
    tasks: dict[int, str] = {}
    for index, text in zip(indices, texts):
        if index is None or text is None:
            raise ContractError("a task row with no task_index or no task", file=str(path), field="task_index")
        if int(index) in tasks:
            raise ContractError(f"task_index {index} appears twice", file=str(path), field="task_index")
        tasks[int(index)] = str(text)
    return tasks


def _task_text_column(table) -> Optional[str]:
    """The column holding the task strings: `task`, else the one string index column the pandas
    metadata names (`__index_level_0__` for an unnamed index)."""
    import pyarrow as pa

    if "task" in table.column_names:
        return "task"
    meta = table.schema.pandas_metadata or {}
    index_columns = [c for c in meta.get("index_columns", []) if isinstance(c, str)]  # dicts: RangeIndex
    strings = [c for c in index_columns if c in table.column_names
               and (pa.types.is_string(table.schema.field(c).type) or pa.types.is_large_string(table.schema.field(c).type))]
    return strings[0] if len(strings) == 1 else None


def _read_episodes(root: Path, info: dict) -> list[dict]:
    import pyarrow.parquet as pq

    paths = sorted((root / layout.EPISODES_DIR).glob("*/*.parquet"))
    if not paths:
        raise ContractError("no episode metadata files", file=str(root / layout.EPISODES_DIR))
    required = list(_EPISODE_COLUMNS)
    for key in layout.video_keys(info["features"]):
        required += [f"videos/{key}/{c}" for c in ("chunk_index", "file_index", "from_timestamp", "to_timestamp")]
    rows: list[dict] = []
    for path in paths:
        table = pq.read_table(path)
        table = table.select([c for c in table.column_names if not c.startswith("stats/")])
        for column in required:
            if column not in table.column_names:
                raise ContractError("column missing", file=str(path), field=column)
        rows.extend(table.to_pylist())
    rows.sort(key=lambda r: r["episode_index"])
    for expected, row in enumerate(rows):
        if row["episode_index"] != expected:
            raise ContractError(f"episode_index {row['episode_index']}, expected {expected} (indices must be "
                                "0..N-1)", file=str(paths[0]), field="episode_index")
        if row["dataset_to_index"] - row["dataset_from_index"] != row["length"]:
            raise ContractError("dataset_to_index - dataset_from_index differs from length", file=str(paths[0]),
                                episode_id=f"episode_index {expected}", field="length")
    total = info.get("total_episodes")
    if total is not None and total != len(rows):
        raise ContractError(f"info.json says {total} episodes, meta/episodes holds {len(rows)}",
                            file=str(root / layout.INFO_PATH), field="total_episodes")
    return rows


def _check_files(folder: LeRobotFolder) -> None:
    """Every data file's schema against info.json; every referenced video file present."""
    import pyarrow.parquet as pq

    expected = layout.arrow_schema(folder.features)
    seen: set[Path] = set()
    for row in folder.episodes:
        path = folder.data_path(row)
        if path not in seen:
            seen.add(path)
            if not path.is_file():
                raise ContractError("data file is missing", file=str(path),
                                    episode_id=f"episode_index {row['episode_index']}", field="data/file_index")
            _check_schema(path, pq.read_schema(path), expected)
        for key in folder.video_keys:
            video = folder.video_path(row, key)
            if video not in seen:
                seen.add(video)
                if not video.is_file():
                    raise ContractError("video file is missing", file=str(video),
                                        episode_id=f"episode_index {row['episode_index']}", field=key)


def _check_schema(path: Path, actual, expected) -> None:
    for field in expected:
        if field.name not in actual.names:
            raise ContractError("column declared in meta/info.json is missing", file=str(path), field=field.name)
        got = actual.field(field.name).type
        if not got.equals(field.type) and not _same_list(got, field.type):
            raise ContractError(f"parquet type {got} contradicts meta/info.json ({field.type})", file=str(path),
                                field=field.name)
    extra = [name for name in actual.names if name not in expected.names]
    if extra:
        raise ContractError("column not declared in meta/info.json features", file=str(path), field=extra[0])


def _same_list(a, b) -> bool:
    """Fixed-size lists that differ only in the child field's name."""
    import pyarrow as pa

    return (pa.types.is_fixed_size_list(a) and pa.types.is_fixed_size_list(b) and a.list_size == b.list_size
            and a.value_type.equals(b.value_type))
