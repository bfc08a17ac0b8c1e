"""One episode of the index, read on demand: its arrays as JSON and its frames as stored.

`EpisodeReader.load(row)` reads the record with one `pread` (data CRC checked), decodes it with the
dataset's codec leaving the frames encoded (`decode_images=False`: a JPEG is served as the bytes
the dataset holds, never re-encoded) and checks it against the contract; violations are shown on
the page, not raised. A few decoded episodes are kept (LRU) so that fetching each frame of the
open episode does not re-read the record; memory is bounded by that count, not the dataset size.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Optional

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError, RldgError
from rldg_data.io.codec import check_record
from rldg_data.io.records import RecordRef, read_record_checked
from viz.view.index import EpisodeIndex, row_json

CACHED_EPISODES = 4


@dataclasses.dataclass(frozen=True)
class LoadedEpisode:
    """A decoded episode (frames still encoded), or the error that kept it from decoding."""

    row: int
    episode: Optional[Episode]
    error: Optional[str]
    violations: tuple[str, ...] = ()


def image_type(blob: bytes) -> str:
    """MIME type of an encoded frame from its magic bytes (JPEG or PNG; else octet-stream)."""
    if blob[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if blob[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    return "application/octet-stream"


class EpisodeReader:
    """Reads episodes of an `EpisodeIndex` one at a time (thread-safe, small LRU cache)."""

    def __init__(self, index: EpisodeIndex, cached: int = CACHED_EPISODES) -> None:
        self.index = index
        self.cached = cached
        self._cache: collections.OrderedDict[int, LoadedEpisode] = collections.OrderedDict()
        self._lock = threading.Lock()

    def load(self, row: int) -> LoadedEpisode:
        with self._lock:
            if row in self._cache:
                self._cache.move_to_end(row)
                return self._cache[row]
        loaded = self._read(row)
        with self._lock:
            self._cache[row] = loaded
            while len(self._cache) > self.cached:
                self._cache.popitem(last=False)
        return loaded

    def _read(self, row: int) -> LoadedEpisode:
        index = self.index
        error = index.rows[row][-1]
        shard_number, offset, length = index.locations[row]
        if offset < 0:  # a row standing for records a broken shard header hides
            return LoadedEpisode(row, None, error)
        entry = index.datasets[index.datasets_by_label[index.rows[row][1]]]
        shard = index.shards[shard_number]
        label = index.rows[row][3]
        try:
            record = read_record_checked(RecordRef(0, shard, offset, length), index=label)
        except (OSError, RldgError) as exc:
            return LoadedEpisode(row, None, f"{exc}")
        episode, problems = check_record(record, file=shard, index=None, expected=entry.files.spec,
                                         decode_images=False)
        if episode is None:
            return LoadedEpisode(row, None, str(problems[0]) if problems else "record does not decode")
        return LoadedEpisode(row, episode, None, tuple(str(p) for p in problems))

    def frame(self, row: int, camera: str, step: int) -> tuple[bytes, str]:
        """The stored bytes and MIME type of one frame; ContractError if there is none."""
        loaded = self.load(row)
        if loaded.episode is None:
            raise ContractError(loaded.error or "episode unreadable")
        field = f"observation/{camera}"
        if field not in spec.IMAGE_FIELDS or field not in loaded.episode.steps:
            raise ContractError(f"no camera {camera!r} in this episode", field=field)
        frames = loaded.episode.steps[field]
        if not 0 <= step < len(frames):
            raise ContractError(f"step {step} outside 0..{len(frames) - 1}", field=field)
        blob = bytes(frames[step])
        return blob, image_type(blob)

    def episode_json(self, row: int) -> dict:
        """What the episode page draws: table row, metadata, arrays per step, cameras, fps."""
        index = self.index
        loaded = self.load(row)
        entry = index.datasets[index.datasets_by_label[index.rows[row][1]]]
        out = {"row": row, "info": row_json(index, row), "dataset": entry.label,
               "dataset_path": str(entry.files.path), "fps": entry.fps, "error": loaded.error,
               "violations": list(loaded.violations)}
        if loaded.episode is None:
            return out
        ep = loaded.episode
        steps = ep.steps
        out["metadata"] = ep.metadata.to_dict()
        out["missing_metadata"] = list(ep.missing_metadata)
        out["num_steps"] = len(ep)
        out["cameras"] = [f.split("/", 1)[1] for f in spec.IMAGE_FIELDS if f in steps]
        out["series"] = {name: _jsonable(steps[name]) for name in
                         (spec.ACTION, spec.STATE, spec.REWARD, spec.DISCOUNT, spec.STAGE,
                          spec.IS_FIRST, spec.IS_LAST, spec.IS_TERMINAL) if name in steps}
        out["source"] = [str(s) for s in steps.get(spec.SOURCE, [])]
        instructions = steps.get(spec.LANGUAGE_INSTRUCTION)
        out["instructions"] = sorted({str(s) for s in instructions}) if instructions is not None else []
        return out


def _jsonable(values: np.ndarray) -> list:
    array = np.asarray(values)
    if array.dtype == np.bool_:
        return array.astype(int).tolist()
    if np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
        array = np.where(np.isfinite(array), array, np.nan)
        return [None if v != v else v for v in array.ravel().tolist()] if array.ndim == 1 else \
            [[None if v != v else v for v in r] for r in array.tolist()]
    return array.tolist()
