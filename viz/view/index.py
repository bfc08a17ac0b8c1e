"""The episode table of one or more datasets, built from record headers and metadata only.

`build_index(paths)` opens each dataset (TFDS metadata as JSON), finds every record of every split
from the 12-byte frame headers (`records.scan_shard`) and reads, per record, only the map entries
of the serialized `tf.train.Example` that the table needs (episode metadata, `steps/source`,
`steps/stage`): the entries holding frames are skipped with a seek, so indexing costs a few
kilobytes of reading per episode whatever the image size. CRCs are not checked here (the episode
page checks them when it reads a record). A record or shard that cannot be read becomes a row
carrying its error, so the rest of the dataset stays browsable.

Rows are tuples in one list with interned strings (BENCHMARKS.md, "view", has the memory it
takes); `query` filters, sorts and pages them. `index_cache` keeps each shard's rows for the next
start.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import BinaryIO, Optional, Sequence

from rldg_data.contract import spec
from rldg_data.errors import ConfigError, ContractError, RldgError
from rldg_data.io.example_proto import Features
from rldg_data.io.reader import DatasetFiles, open_dataset
from rldg_data.io.records import scan_shard
from viz.scan import source_from_counts
from viz.view import index_cache

# The simulator's recorded step is 12.5 ms (as the LeRobot export assumes): 80 frames a second,
# unless the dataset's TFDS metadata.json records an `fps` (imports write it).
DEFAULT_FPS = 80.0
_META_PREFIX = spec.EPISODE_METADATA + "/"
_WANTED_STEPS = (f"{spec.STEPS}/{spec.SOURCE}", f"{spec.STEPS}/{spec.STAGE}")
_WANTED_KEYS = frozenset(k.encode() for k in _WANTED_STEPS)
_LIST_OF = {str: "bytes_list", bool: "int64_list", int: "int64_list", float: "float_list"}  # as the codec writes

COLUMNS = ("row", "dataset", "data_split", "episode_id", "task", "variant", "split", "policy_id",
           "success", "episode_return", "length", "source", "steps_per_source", "stages",
           "handoff", "error")
SORTABLE = ("row", "dataset", "data_split", "episode_id", "task", "variant", "split", "policy_id",
            "success", "episode_return", "length", "source", "handoff")
_COL = {name: i for i, name in enumerate(COLUMNS)}


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """One dataset being viewed: its files, a display name and its frame rate."""

    files: DatasetFiles
    label: str
    fps: float

    @property
    def cameras(self) -> list[str]:
        wrist = self.files.spec is not None and self.files.spec.wrist
        fields = spec.IMAGE_FIELDS if wrist else spec.IMAGE_FIELDS[:1]
        return [f.split("/", 1)[1] for f in fields]  # "image", "wrist_image": the frame API's names


@dataclasses.dataclass
class EpisodeIndex:
    """Every episode of the viewed datasets: table rows and where each record lies."""

    datasets: list[DatasetEntry]
    rows: list[tuple]  # COLUMNS, in order
    shards: list[str]  # shard file paths, referred to by `locations`
    locations: list[tuple[int, int, int]]  # per row: (shard number, byte offset, byte length)
    problems: list[str]  # dataset-level problems (a damaged shard's header, a spec error)

    @property
    def datasets_by_label(self) -> dict[str, int]:
        return {d.label: i for i, d in enumerate(self.datasets)}

    def __len__(self) -> int:
        return len(self.rows)

    def row_dict(self, row: int) -> dict:
        return dict(zip(COLUMNS, self.rows[row]))

    def facets(self) -> dict[str, list]:
        """Distinct values of the filterable text columns (for the page's drop-downs)."""
        out = {}
        for name in ("dataset", "data_split", "task", "variant", "split", "policy_id", "source"):
            i = _COL[name]
            out[name] = sorted({r[i] for r in self.rows})
        sources = set()
        stages = set()
        for r in self.rows:
            sources.update(k for k, _ in r[_COL["steps_per_source"]])
            stages.update(r[_COL["stages"]])
        out["step_source"] = sorted(sources)
        out["stage"] = sorted(stages)
        return out

    def find(self, dataset: str, episode_id: str) -> Optional[int]:
        """The row of `episode_id` in the dataset labelled or named `dataset` (any dataset if
        empty; the first match), or None."""
        d, e = _COL["dataset"], _COL["episode_id"]
        labels = {x.label for x in self.datasets if dataset in (x.label, x.files.name)}
        for i, r in enumerate(self.rows):
            if r[e] == episode_id and (not dataset or r[d] in labels):
                return i
        return None


def dataset_fps(folder: Path) -> Optional[float]:
    """The `fps` a dataset recorded in TFDS's metadata.json, or None."""
    path = Path(folder) / "metadata.json"
    try:
        value = json.loads(path.read_text()).get("fps") if path.is_file() else None
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def open_entries(paths: Sequence[str | os.PathLike], fps: Optional[float] = None) -> list[DatasetEntry]:
    """Opens each dataset's metadata; labels are the dataset names, made unique with the version."""
    entries = []
    seen: dict[str, int] = {}
    for path in paths:
        files = open_dataset(path)
        label = files.name
        if label in seen:
            label = f"{files.name}/{files.version}"
            if label in seen:
                label = f"{label}#{len(entries)}"
        seen[label] = len(entries)
        entries.append(DatasetEntry(files, label, float(fps or dataset_fps(files.path) or DEFAULT_FPS)))
    return entries


def build_index(paths: Sequence[str | os.PathLike], fps: Optional[float] = None,
                cache: Optional[str | os.PathLike] = None) -> EpisodeIndex:
    """Indexes every episode of every split of every dataset (see the module docstring). With
    `cache` (a folder), each shard's rows are kept there and reused while the shard's size and
    modification time are unchanged (`index_cache`), so reopening a big dataset is quick."""
    if fps is not None and fps <= 0:
        raise ConfigError(f"--fps must be positive, got {fps}")
    entries = open_entries(paths, fps)
    index = EpisodeIndex(entries, [], [], [], [])
    for number, entry in enumerate(entries):
        if entry.files.spec_error:
            index.problems.append(f"{entry.files.path / 'features.json'}: {entry.files.spec_error}")
        for split, shard_paths in entry.files.shards.items():
            for shard, expected in zip(shard_paths, entry.files.shard_lengths[split]):
                if not inside(entry.files.path, shard):
                    _refuse_shard(index, entry.label, split, shard, entry.files.path)
                    continue
                _index_shard(index, entry.label, split, str(shard), expected,
                             Path(cache) if cache is not None else None)
    return index


def inside(folder: Path, path: Path) -> bool:
    """Whether `path` lies in `folder`, judged on the names (a dataset_info.json whose name or split
    holds '../' must not make the viewer read files elsewhere; symlinked shards stay readable)."""
    folder_norm = os.path.normpath(os.path.abspath(folder))
    path_norm = os.path.normpath(os.path.abspath(path))
    return os.path.dirname(path_norm) == folder_norm


def _refuse_shard(index: EpisodeIndex, label: str, split: str, shard: Path, folder: Path) -> None:
    message = (f"{folder / 'dataset_info.json'}: shard path {shard} leaves the dataset folder: refused "
               f"(the dataset's name or split names a path)")
    index.problems.append(message)
    index.shards.append(str(shard))
    index.rows.append((len(index.rows), label, split, *_error_fields("", message)))
    index.locations.append((len(index.shards) - 1, -1, 0))


@dataclasses.dataclass
class ShardRows:
    """What indexing one shard gives, independent of where it sits in the table: per record the
    row fields from `episode_id` on (COLUMNS[3:]) and its (offset, length); a header problem."""

    fields: list[tuple]
    locations: list[tuple[int, int]]
    problem: Optional[str] = None


def index_shard_rows(shard: str, expected: int) -> ShardRows:
    """Indexes one shard (see the module docstring); damage becomes error rows, never raises."""
    refs, problem = scan_shard(shard)
    out = ShardRows([], [])
    with open(shard, "rb", buffering=1 << 16) if refs else _NoFile() as f:
        for i, (offset, length) in enumerate(refs):
            try:
                fields = _fields(read_entries(f, offset, length))
            except (RldgError, ValueError, KeyError, UnicodeDecodeError) as exc:
                fields = _error_fields(f"#{i} in file", f"{shard}: record {i}: {exc}")
            out.fields.append(fields)
            out.locations.append((offset, length))
    if problem is not None:
        out.problem = str(problem)
        # the records the broken header hides: one error row, so the page shows where they went
        missing = max(1, expected - len(refs))
        out.fields.append(_error_fields(f"#{len(refs)} in file", f"{problem} ({missing} episode(s) unreadable)"))
        out.locations.append((-1, 0))
    return out


def _index_shard(index: EpisodeIndex, label: str, split: str, shard: str, expected: int,
                 cache: Optional[Path]) -> None:
    cached = index_cache.load(cache, shard) if cache is not None else None
    if cached is not None:
        rows = ShardRows(*cached)
    else:
        rows = index_shard_rows(shard, expected)
        if cache is not None:
            index_cache.save(cache, shard, rows.fields, rows.locations, rows.problem)
    shard_number = len(index.shards)
    index.shards.append(shard)
    label, split = sys.intern(label), sys.intern(split)
    for fields, (offset, length) in zip(rows.fields, rows.locations):
        index.rows.append((len(index.rows), label, split, *fields))
        index.locations.append((shard_number, offset, length))
    if rows.problem is not None:
        index.problems.append(rows.problem)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it) of the protobuf varint at `buf[pos]`."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ContractError("record ends inside a varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ContractError("malformed varint")


_PEEK = 128  # bytes read per map entry: its tag, size, key and the value's header fit in this


def read_entries(f: BinaryIO, offset: int, length: int) -> dict:
    """The wanted feature map entries of the Example at `offset`: {key: Feature}. Walks the
    Example's framing (field 1: Features; its field 1: map entries, key first, then field 2: the
    Feature) reading a short peek per entry, and seeks past the entries it does not need."""
    f.seek(offset)
    head = f.read(min(_PEEK, length))
    if head[:1] != b"\x0a":
        raise ContractError("record is not a tf.train.Example (no features field)")
    total, pos = _varint(head, 1)
    end = pos + total
    if end > length:
        raise ContractError("features field runs past the record")
    wanted = bytearray()
    while pos < end:
        f.seek(offset + pos)
        peek = f.read(min(_PEEK, end - pos))
        if peek[:1] != b"\x0a":
            raise ContractError(f"unexpected field in Features (tag {peek[:1]!r})")
        size, p = _varint(peek, 1)
        entry_end = pos + p + size
        if entry_end > end:
            raise ContractError("feature entry runs past the record")
        key = None
        if peek[p:p + 1] == b"\x0a":  # the key first, as every writer puts it
            key_len, k = _varint(peek, p + 1)
            if k + key_len <= len(peek):
                key = peek[k:k + key_len]
        if key is None or key.startswith(b"episode_metadata/") or key in _WANTED_KEYS:
            if entry_end - pos <= len(peek):
                wanted += peek[:entry_end - pos]
            else:
                f.seek(offset + pos)
                wanted += f.read(entry_end - pos)
        pos = entry_end
    features = Features()
    features.ParseFromString(bytes(wanted))  # the kept entries, framed as they were: one parse
    return dict(features.feature)


def _fields(fields: dict) -> tuple:
    meta = {}
    for name, kind in spec.METADATA_TYPES.items():
        feature = fields.get(_META_PREFIX + name)
        values = getattr(feature, _LIST_OF[kind]).value if feature is not None else ()
        meta[name] = kind(values[0].decode("utf-8") if kind is str else values[0]) if values else None
    source_key, stage_key = _WANTED_STEPS
    sources = [s.decode("utf-8") for s in fields[source_key].bytes_list.value] if source_key in fields else []
    stages = list(fields[stage_key].int64_list.value) if stage_key in fields else []
    counts: dict[str, int] = {}
    for s in sources:
        counts[s] = counts.get(s, 0) + 1
    handoff = next((t for t in range(1, len(sources)) if sources[t] != sources[t - 1]), None)
    intern = sys.intern
    text = lambda v: intern(v) if isinstance(v, str) else ""  # noqa: E731
    missing = [k for k, v in meta.items() if v is None]
    error = f"missing metadata: {', '.join(missing)}" if missing else None
    return (meta[spec.EPISODE_ID] or "", text(meta[spec.TASK]),
            text(meta[spec.VARIANT]), text(meta[spec.SPLIT]), text(meta[spec.POLICY_ID]),
            meta[spec.SUCCESS], meta[spec.EPISODE_RETURN], len(sources) if sources else (meta[spec.LENGTH] or 0),
            intern(source_from_counts(counts)),
            tuple(sorted(counts.items())), tuple(sorted(set(stages))), handoff, error)


def _error_fields(episode_id: str, error: str) -> tuple:
    return (episode_id, "", "", "", "", None, None, 0, "unknown", (), (), None, error)


@dataclasses.dataclass(frozen=True)
class Query:
    """A table request: equality filters, text search, length range, sort and page."""

    filters: tuple[tuple[str, str], ...] = ()  # (column, value): dataset, source, variant, ...
    success: Optional[bool] = None
    step_source: str = ""  # episodes in which this source acted at least one step
    stage: Optional[int] = None
    search: str = ""  # substring of the episode id
    min_length: Optional[int] = None
    max_length: Optional[int] = None
    errors_only: bool = False
    sort: str = "row"
    descending: bool = False
    offset: int = 0
    limit: int = 50

    def __post_init__(self) -> None:
        for column, _ in self.filters:
            if column not in ("dataset", "data_split", "task", "variant", "split", "policy_id", "source"):
                raise ConfigError(f"cannot filter on {column!r}")
        if self.sort not in SORTABLE:
            raise ConfigError(f"cannot sort on {self.sort!r} (sortable: {', '.join(SORTABLE)})")
        if self.offset < 0 or not 1 <= self.limit <= 1000:
            raise ConfigError(f"offset must be >= 0 and limit 1..1000, got {self.offset}, {self.limit}")


def matching_rows(index: EpisodeIndex, q: Query) -> list[int]:
    """Row numbers matching `q`'s filters, in `q`'s order."""
    tests = [(lambda r, i=_COL[c], v=v: r[i] == v) for c, v in q.filters]
    if q.success is not None:
        tests.append(lambda r: r[_COL["success"]] is q.success)
    if q.step_source:
        tests.append(lambda r: any(k == q.step_source for k, _ in r[_COL["steps_per_source"]]))
    if q.stage is not None:
        tests.append(lambda r: q.stage in r[_COL["stages"]])
    if q.search:
        needle = q.search.lower()
        tests.append(lambda r: needle in r[_COL["episode_id"]].lower())
    if q.min_length is not None:
        tests.append(lambda r: r[_COL["length"]] >= q.min_length)
    if q.max_length is not None:
        tests.append(lambda r: r[_COL["length"]] <= q.max_length)
    if q.errors_only:
        tests.append(lambda r: r[_COL["error"]] is not None)
    rows = index.rows
    hits = [r for r in rows if all(t(r) for t in tests)] if tests else list(rows)
    if q.sort != "row" or q.descending:
        i = _COL[q.sort]
        # None (unknown) sorts first ascending; mixed types compare by (is-known, value)
        hits.sort(key=lambda r: (r[i] is not None, r[i] if r[i] is not None else 0), reverse=q.descending)
    return [r[0] for r in hits]


def query(index: EpisodeIndex, q: Query) -> dict:
    """One page of the table: {total, offset, limit, rows: [row dicts]}."""
    hits = matching_rows(index, q)
    page = hits[q.offset:q.offset + q.limit]
    return {"total": len(hits), "offset": q.offset, "limit": q.limit,
            "rows": [row_json(index, i) for i in page]}


def row_json(index: EpisodeIndex, row: int) -> dict:
    d = index.row_dict(row)
    d["steps_per_source"] = dict(d["steps_per_source"])
    d["stages"] = list(d["stages"])
    return d
