"""Contract dataset -> LeRobot v3.0 dataset, streamed episode by episode (`rldg export lerobot`).

One pass over the source: each episode's frames go straight into one open MP4 encoder per camera,
its rows into one open parquet writer (one row group per episode), its metadata row into the
episodes parquet, its statistics into a running merge. Memory holds one episode, whatever the
dataset's size. Data and video files roll over at LeRobot's size limits (100 MB / 200 MB) into
`chunk-XXX/file-YYY`. Everything is written in a hidden folder beside `--out` and renamed into
place at the end: an interrupted export leaves no dataset.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import DatasetError
from rldg_data.exports import lerobot_stats as stats
from rldg_data.io import lerobot_layout as layout
from rldg_data.io.atomic import write_text_atomic
from rldg_data.io.outputs import output_dir
from rldg_data.io.reader import iter_episodes, open_dataset
from rldg_data.io.lerobot_features import (CAMERAS, EPISODE_METADATA_PREFIX, SCALAR_COLUMNS,
                                        VECTOR_COLUMNS, contract_features)
from rldg_data.io.video import CODECS, VideoFileWriter, encoder_options, probe

log = logging.getLogger(__name__)

DEFAULT_FPS = 80  # the simulator's control rate (robot_io: 12.5 ms per recorded step)
EPISODES_BUFFER = 10  # episode rows per write of meta/episodes (as LeRobot buffers them)


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """How `export_lerobot` writes a LeRobot v3.0 dataset (LeRobot's defaults where it has them).

    fps: frames per second (none: the dataset's metadata.json fps, else 80, the simulator's control rate)
    vcodec: video codec: h264 (plays everywhere) or libsvtav1 (LeRobot's default)
    crf: encoder quality, lower is better and bigger (LeRobot's 30)
    gop: keyframe interval in frames (LeRobot's 2: fast random access)
    encoder_threads: threads per video encoder (none: the codec decides)
    robot_type: robot_type recorded in info.json
    chunks_size: files per chunk-XXX folder (LeRobot's 1000)
    data_files_size_in_mb, video_files_size_in_mb: size past which a new data / video file starts
      (LeRobot's 100 and 200)
    overwrite: replace an earlier `rldg export lerobot` output (never a folder it did not write)
    """

    fps: Optional[int] = None
    vcodec: str = "h264"
    crf: int = 30
    gop: int = 2
    encoder_threads: Optional[int] = None
    robot_type: Optional[str] = None
    chunks_size: int = layout.DEFAULT_CHUNK_SIZE
    data_files_size_in_mb: float = layout.DEFAULT_DATA_FILE_SIZE_IN_MB
    video_files_size_in_mb: float = layout.DEFAULT_VIDEO_FILE_SIZE_IN_MB
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.fps is not None and (int(self.fps) != self.fps or self.fps <= 0):
            raise DatasetError(f"--fps must be a positive integer (LeRobot stores integer fps), got {self.fps}")
        if self.vcodec not in CODECS:
            raise DatasetError(f"--vcodec {self.vcodec!r}: use one of {list(CODECS)}")
        if self.chunks_size <= 0 or self.data_files_size_in_mb <= 0 or self.video_files_size_in_mb <= 0:
            raise DatasetError("chunk and file sizes must be positive")


@dataclasses.dataclass(frozen=True)
class ExportSummary:
    path: Path
    episodes: int
    frames: int
    data_files: int
    video_files: int
    seconds: float


def dataset_fps(dataset_dir: Path) -> Optional[int]:
    """The `fps` a dataset recorded in TFDS's metadata.json (our imports write it), or None."""
    path = Path(dataset_dir) / "metadata.json"
    try:
        value = json.loads(path.read_text()).get("fps") if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None
    return int(value) if value else None


def export_lerobot(dataset: str | os.PathLike, out: str | os.PathLike, config: ExportConfig = ExportConfig(),
                   progress: Optional[Callable[[int], None]] = None) -> ExportSummary:
    """Writes the contract dataset at `dataset` as a LeRobot v3.0 dataset folder `out`."""
    files = open_dataset(dataset)
    if files.spec is None:
        raise DatasetError(f"{files.path}: {files.spec_error}")
    out = Path(out)
    recorded = dataset_fps(files.path)
    fps = config.fps or recorded or DEFAULT_FPS
    origin = ("--fps" if config.fps else "the dataset's metadata.json" if recorded else
              f"the default: {DEFAULT_FPS}, the simulator's control rate (the dataset records no rate; "
              "pass --fps for data recorded at another rate, e.g. 10 for the robot API)")
    start = time.perf_counter()
    with output_dir(out, "rldg export lerobot", force=config.overwrite, inputs=[files.path]) as tmp:
        summary = _write_all(files, tmp, fps, config, progress)
        write_text_atomic(tmp / "README.md", export_readme(files, summary, fps, origin, config))
    return dataclasses.replace(summary, path=out, seconds=time.perf_counter() - start)


def export_readme(files, summary: "ExportSummary", fps: int, origin: str, config: ExportConfig) -> str:
    """README.md of a LeRobot export: what it holds, its frame rate and where that came from, and
    how to open it with LeRobot and bring it back (the same bytes wherever the export is written)."""
    cameras = ", ".join(f"`{CAMERAS[f]}`" for f in (spec.IMAGE, spec.WRIST_IMAGE)
                        if f == spec.IMAGE or files.spec.wrist)
    return f"""# LeRobot v3.0 export of `{files.name}` {files.version}

- Source: `{files.path}` (an RLDS contract dataset); {summary.episodes} episodes, {summary.frames} frames.
- Frame rate: **{fps} fps**, from {origin}. Timestamps are frame_index / fps.
- Cameras (video, {config.vcodec}): {cameras}. State `observation.state`, action `action` (in [-1, 1]).
- Extra frame columns keep the contract's per-step fields (`source`, `stage`, `next.reward`, `next.done`,
  `discount`, ...); the episode metadata is in the `episode_metadata/*` columns of meta/episodes/.

## Open it with LeRobot (in LeRobot's own environment)
```python
from lerobot.datasets.lerobot_dataset import LeRobotDataset
dataset = LeRobotDataset("local/{files.name}", root="path/to/this/folder")   # the folder of this README
print(dataset.num_episodes, dataset.fps, dataset[0].keys())
# without FFmpeg's shared libraries for torchcodec, pass video_backend="pyav"
```

## Back to the RLDS contract
```sh
tfds build builders/lerobot_import --data_dir DATA --manual_dir path/to/this/folder
```
"""


def _write_all(files, folder: Path, fps: int, config: ExportConfig,
               progress: Optional[Callable[[int], None]]) -> ExportSummary:
    """Every split's episodes into the LeRobot folder `folder` (train first); its summary."""
    writer = _LeRobotWriter(folder, files.spec, fps, config)
    try:
        splits: dict[str, str] = {}
        for split in sorted(files.shards, key=lambda s: (s != "train", s)):
            first = writer.episodes
            for episode in iter_episodes(files.path, split):
                writer.add(episode)
                if progress:
                    progress(1)
            if writer.episodes > first:
                splits[split] = f"{first}:{writer.episodes}"
        if not writer.episodes:
            raise DatasetError(f"{files.path}: no episodes to export")
        return writer.finish(splits)
    except BaseException:
        writer.abort()
        raise


class _RollingFile:
    """(chunk, file) numbering of one stream of files that roll over past a size."""

    def __init__(self, chunks_size: int) -> None:
        self.chunks_size = chunks_size
        self.chunk, self.file, self.count = 0, 0, 0

    def advance(self) -> None:
        self.chunk, self.file = layout.next_chunk_file(self.chunk, self.file, self.chunks_size)


class _LeRobotWriter:
    """Writes one LeRobot dataset folder; `add()` per episode, then `finish()`."""

    def __init__(self, root: Path, dataset_spec: spec.DatasetSpec, fps: int, config: ExportConfig) -> None:
        import pyarrow.parquet as pq

        self._pq = pq
        self.root, self.spec, self.fps, self.config = root, dataset_spec, fps, config
        self.features = {**contract_features(dataset_spec), **layout.INDEX_FEATURES}
        self.schema = layout.arrow_schema(self.features)
        self.cameras = {field: key for field, key in CAMERAS.items() if key in self.features}
        self.tasks: dict[str, int] = {}
        self.episodes = self.frames = 0
        self.stats = stats.LeRobotStatsAccumulator()
        self._data = _RollingFile(config.chunks_size)
        self._data_writer = None
        self._data_frames_in_file = 0
        self._videos = {key: _RollingFile(config.chunks_size) for key in self.cameras.values()}
        self._video_writers: dict[str, Optional[VideoFileWriter]] = {k: None for k in self.cameras.values()}
        self._encoders = {k: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"encode-{k}")
                          for k in self.cameras.values()}
        self._pending: dict[str, Future] = {}
        self._episode_rows: list[dict] = []
        self._episodes_writer = None

    # -- one episode -------------------------------------------------------------------------
    def add(self, episode: Episode) -> None:
        n = len(episode)
        row = {"episode_index": self.episodes}
        instructions = [str(s) for s in episode.steps[spec.LANGUAGE_INSTRUCTION]]
        task_index = np.array([self._task(t) for t in instructions], np.int64)
        row["tasks"] = list(dict.fromkeys(instructions))
        row["length"] = n
        cols = self._frame_columns(episode, task_index)
        row.update(self._write_data(cols, n))
        for field, key in self.cameras.items():
            row.update(self._write_video(key, episode.steps[field]))
        ep_stats = self._episode_stats(episode, cols)
        row.update(stats.episode_columns(ep_stats))
        row["meta/episodes/chunk_index"] = 0
        row["meta/episodes/file_index"] = 0
        row.update({EPISODE_METADATA_PREFIX + k: v for k, v in episode.metadata.to_dict().items()})
        self.stats.add(ep_stats)
        self._episode_rows.append(row)
        if len(self._episode_rows) >= EPISODES_BUFFER:
            self._flush_episode_rows()
        self.episodes += 1
        self.frames += n

    def _task(self, instruction: str) -> int:
        return self.tasks.setdefault(instruction, len(self.tasks))

    def _frame_columns(self, episode: Episode, task_index: np.ndarray) -> dict[str, np.ndarray]:
        n = len(episode)
        cols: dict[str, np.ndarray] = {}
        for field, key in VECTOR_COLUMNS.items():
            if key in self.features:
                cols[key] = np.asarray(episode.steps[field], np.float32)
        for field, (key, dtype) in SCALAR_COLUMNS.items():
            values = episode.steps[field]
            cols[key] = np.asarray(values).astype(str) if dtype == "string" else np.asarray(values, dtype)
        frame_index = np.arange(n, dtype=np.int64)
        cols["timestamp"] = (frame_index / self.fps).astype(np.float32)
        cols["frame_index"] = frame_index
        cols["episode_index"] = np.full(n, self.episodes, np.int64)
        cols["index"] = np.arange(self.frames, self.frames + n, dtype=np.int64)
        cols["task_index"] = task_index
        return cols

    def _write_data(self, cols: dict[str, np.ndarray], n: int) -> dict:
        import pyarrow as pa

        arrays = []
        for field in self.schema:
            values = cols[field.name]
            if pa.types.is_fixed_size_list(field.type):
                arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1]))
            else:
                arrays.append(pa.array(values.tolist() if values.dtype.kind == "U" else values, type=field.type))
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if self._data_writer is not None:
            size_mb = os.path.getsize(self._data_path()) / 2**20
            per_frame = size_mb / max(self._data_frames_in_file, 1)
            if size_mb + per_frame * n >= self.config.data_files_size_in_mb:
                self._data_writer.close()
                self._data_writer = None
                self._data.advance()
        if self._data_writer is None:
            path = self._data_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._data_writer = self._pq.ParquetWriter(path, self.schema, compression="snappy",
                                                       use_dictionary=True)
            self._data.count += 1
            self._data_frames_in_file = 0
        self._data_writer.write_table(table)
        self._data_frames_in_file += n
        return {"data/chunk_index": self._data.chunk, "data/file_index": self._data.file,
                "dataset_from_index": self.frames, "dataset_to_index": self.frames + n}

    def _data_path(self) -> Path:
        return self.root / layout.DATA_PATH.format(chunk_index=self._data.chunk, file_index=self._data.file)

    def _write_video(self, key: str, frames: np.ndarray) -> dict:
        """Queues the episode's frames on the camera's encoder thread (PyAV encodes without the
        GIL, so encoding episode k overlaps reading and decoding episode k+1). The previous
        episode's encode finishes first, so file boundaries do not depend on timing."""
        self._wait(key)
        files, writer = self._videos[key], self._video_writers[key]
        if writer is not None and writer.frames:
            per_frame = writer.bytes / writer.frames
            if (writer.bytes + per_frame * len(frames)) / 2**20 >= self.config.video_files_size_in_mb:
                writer.close()
                writer = None
                files.advance()
        if writer is None:
            path = self.root / layout.VIDEO_PATH.format(video_key=key, chunk_index=files.chunk,
                                                        file_index=files.file)
            writer = VideoFileWriter(path, self.fps, frames.shape[1], frames.shape[2], self.config.vcodec,
                                     self.config.crf, self.config.gop, self.config.encoder_threads)
            files.count += 1
            self._video_writers[key] = writer
        first, end = writer.frames, writer.frames + len(frames)
        self._pending[key] = self._encoders[key].submit(writer.write, frames)
        return {f"videos/{key}/chunk_index": files.chunk, f"videos/{key}/file_index": files.file,
                f"videos/{key}/from_timestamp": first / self.fps, f"videos/{key}/to_timestamp": end / self.fps}

    def _wait(self, key: str) -> None:
        pending = self._pending.pop(key, None)
        if pending is not None:
            pending.result()  # an encoder error surfaces here

    def abort(self) -> None:
        """Stops the encoder threads and closes every file (the caller deletes the folder)."""
        for key, pending in list(self._pending.items()):
            try:
                pending.result()
            except Exception:  # already failing: the first error is the one raised
                pass
        self._pending.clear()
        for executor in self._encoders.values():
            executor.shutdown(wait=True)
        for writer in [self._data_writer, self._episodes_writer, *self._video_writers.values()]:
            try:
                if writer is not None:
                    writer.close()
            except Exception:
                pass

    def _episode_stats(self, episode: Episode, cols: dict[str, np.ndarray]) -> dict:
        out = {key: stats.feature_stats(values) for key, values in cols.items()
               if self.features[key]["dtype"] != "string"}
        for field, key in self.cameras.items():
            out[key] = stats.image_stats(episode.steps[field])
        return out

    def _flush_episode_rows(self) -> None:
        import pyarrow as pa

        if not self._episode_rows:
            return
        table = pa.Table.from_pylist(self._episode_rows)
        if self._episodes_writer is None:
            path = self.root / layout.EPISODES_PATH.format(chunk_index=0, file_index=0)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._episodes_writer = self._pq.ParquetWriter(path, table.schema, compression="snappy",
                                                           use_dictionary=True)
        else:
            table = table.select(self._episodes_writer.schema.names).cast(self._episodes_writer.schema)
        self._episodes_writer.write_table(table)
        self._episode_rows.clear()

    # -- the end -------------------------------------------------------------------------------
    def finish(self, splits: dict[str, str]) -> ExportSummary:
        import pandas as pd

        self._flush_episode_rows()
        self._episodes_writer.close()
        self._data_writer.close()
        for key in list(self._pending):
            self._wait(key)
        for executor in self._encoders.values():
            executor.shutdown(wait=True)
        for writer in self._video_writers.values():
            writer.close()
        for key in self.cameras.values():
            first = self.root / layout.VIDEO_PATH.format(video_key=key, chunk_index=0, file_index=0)
            fields = encoder_options(self.config.vcodec, self.config.crf, self.config.gop)
            info = probe(first)
            for name, value in [("pix_fmt", info["video.pix_fmt"]), *fields.items(),
                                ("video_backend", "pyav"), ("extra_options", {})]:
                info.setdefault(f"video.{name}", value)
            info["is_depth_map"] = False
            self.features[key]["info"] = info
        tasks = pd.DataFrame({"task_index": list(self.tasks.values())},
                             index=pd.Index(list(self.tasks), name="task"))
        tasks.to_parquet(self.root / layout.TASKS_PATH)
        info = {
            "codebase_version": layout.CODEBASE_VERSION, "fps": self.fps, "features": self.features,
            "total_episodes": self.episodes, "total_frames": self.frames, "total_tasks": len(self.tasks),
            "chunks_size": self.config.chunks_size,
            "data_files_size_in_mb": self.config.data_files_size_in_mb,
            "video_files_size_in_mb": self.config.video_files_size_in_mb,
            "data_path": layout.DATA_PATH, "video_path": layout.VIDEO_PATH if self.cameras else None,
            "robot_type": self.config.robot_type, "splits": splits,
        }
        (self.root / layout.INFO_PATH).write_text(json.dumps(info, indent=4, ensure_ascii=False))
        (self.root / layout.STATS_PATH).write_text(json.dumps(self.stats.to_json(), indent=4))
        return ExportSummary(self.root, self.episodes, self.frames, self._data.count,
                             sum(v.count for v in self._videos.values()), 0.0)
