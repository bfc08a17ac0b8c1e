"""The mapping YAML of an import, parsed in one place into frozen dataclasses.

Shared keys (both imports): `image`, `wrist_image`, `state`, `image_size`, `action` (an
`ActionMap`), and episode defaults (`source`, `task`, `variant`, `split`, `policy_id`, `success`).
An RLDS import's `action` and `state` may also be a list of parts (`Concat`): several source keys
in order, each with its own dims, scale, bounds and inversion, concatenated - what Octo's and
OpenVLA's Open X-Embodiment standardization transforms do for dict actions (RT-1's `world_vector`,
`rotation_delta`, `gripper_closedness_action`).
An unknown key, a wrong type or a bad value is a ContractError naming the mapping file and key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from rldg_data.configs import check_keys as _check_keys
from rldg_data.contract import spec
from rldg_data.errors import ContractError


@dataclasses.dataclass(frozen=True)
class ActionMap:
    """How the source action becomes the contract's action in [-1, 1].

    key: the source field holding it; dims: which dimensions to keep (default all);
    scale: multiplies the source values first (per dimension or one number; e.g. a unit change);
    low/high: the (scaled) source range mapped linearly onto [-1, 1] (per dimension or one number);
    from_stats: take low/high from the dataset's own statistics (LeRobot: meta/stats.json min/max);
    invert: negate after the mapping (a gripper whose 1 means closed where ours means open: in
    [0, 1] terms, x -> 1 - x, as OXE's `invert_gripper_actions`);
    clip: clip the mapped values to [-1, 1] (otherwise a value outside is a contract error).
    With none of low/high/from_stats, the action is taken as it is (and must already lie in [-1, 1]).
    Order: scale, low/high, invert, dims, clip. Booleans read as 0/1.
    """

    key: str = "action"
    dims: Optional[tuple[int, ...]] = None
    low: Optional[tuple[float, ...]] = None
    high: Optional[tuple[float, ...]] = None
    from_stats: bool = False
    clip: bool = False
    scale: Optional[tuple[float, ...]] = None
    invert: bool = False

    def apply(self, action: np.ndarray, low=None, high=None) -> np.ndarray:
        """[T, D] source actions -> [T, D'] contract actions (float32)."""
        action = np.asarray(action).astype(np.float64)
        if action.ndim == 1:
            action = action[:, None]
        if self.scale is not None:
            action = action * np.broadcast_to(np.asarray(self.scale, np.float64), action.shape[1:])
        low = self.low if low is None else low
        high = self.high if high is None else high
        if low is not None:
            lo = np.broadcast_to(np.asarray(low, np.float64), action.shape[1:])
            hi = np.broadcast_to(np.asarray(high, np.float64), action.shape[1:])
            span = np.where(hi > lo, hi - lo, 1.0)
            action = np.where(hi > lo, 2.0 * (action - lo) / span - 1.0, 0.0)
        if self.invert:
            action = -action
        if self.dims is not None:
            action = action[:, list(self.dims)]
        if self.clip:
            action = np.clip(action, spec.ACTION_LOW, spec.ACTION_HIGH)
        return action.astype(np.float32)

    def out_dim(self, source_dim: int) -> int:
        return len(self.dims) if self.dims is not None else source_dim

    def check_dims(self, source_dim: int, file: Optional[str], field: str) -> None:
        """Refuses dims, scale or bounds that do not fit a source of `source_dim` dimensions."""
        if self.dims is not None:
            bad = [d for d in self.dims if not -source_dim <= d < source_dim]
            if bad:
                raise ContractError(f"dims {list(self.dims)}: {bad[0]} is out of range for {self.key!r} with "
                                    f"{source_dim} dimension(s)", file=file, field=f"{field}.dims")
        for name in ("scale", "low", "high"):
            values = getattr(self, name)
            if values is not None and len(values) not in (1, source_dim):
                raise ContractError(f"{name} has {len(values)} values; {self.key!r} has {source_dim} dimension(s) "
                                    "(give one number or one per dimension)", file=file, field=f"{field}.{name}")


@dataclasses.dataclass(frozen=True)
class Concat:
    """An action (or state) built from several source keys, in order: each part an `ActionMap`
    (its own key, dims, scale, bounds, invert, clip), the results concatenated along the last axis."""

    parts: tuple[ActionMap, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parts)

    def apply(self, values: Sequence[np.ndarray]) -> np.ndarray:
        """One [T, ...] array per part -> [T, sum of the parts' dims] (float32)."""
        n = len(values[0])
        return np.concatenate([p.apply(np.asarray(v).reshape(n, -1)) for p, v in zip(self.parts, values)], axis=1)

    def out_dim(self, source_dims: Sequence[int]) -> int:
        return sum(p.out_dim(d) for p, d in zip(self.parts, source_dims))

    def field(self, i: int, name: str) -> str:
        """The mapping key of part i in messages: `action` for a single part, else `action[i]`."""
        return name if len(self.parts) == 1 else f"{name}[{i}]"


@dataclasses.dataclass(frozen=True)
class EpisodeDefaults:
    """Episode fields the source does not carry: one value for every imported episode.
    success None: the episode succeeded when its rewards sum above zero."""

    source: str = spec.SOURCE_HUMAN
    task: Optional[str] = None
    variant: str = ""
    split: str = "seen"
    policy_id: Optional[str] = None
    success: Optional[bool] = None


def load_yaml(path: Optional[str | Path]) -> dict:
    """The mapping at `path` as a dict ({} for no path); errors name the file."""
    if path is None:
        return {}
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ContractError("mapping file not found", file=str(path))
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ContractError(f"not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise ContractError("a mapping file holds a YAML mapping (key: value)", file=str(path))
    return data


def check_keys(data: Mapping[str, Any], allowed: Sequence[str], file: Optional[str], prefix: str = "") -> None:
    """`configs.check_keys`, its error located in the mapping file (ContractError naming file and key)."""
    unknown = sorted(set(data) - set(allowed), key=str) if isinstance(data, Mapping) else []
    _check_keys(data, allowed, error=lambda message: ContractError(
        message, file=file, field=prefix + str(unknown[0]) if unknown else None))


def _numbers(value, file, field) -> Optional[tuple[float, ...]]:
    if value is None:
        return None
    values = value if isinstance(value, (list, tuple)) else [value]
    try:
        return tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise ContractError(f"expected a number or a list of numbers, got {value!r}", file=file,
                            field=field) from exc


def parse_action(value: Any, file: Optional[str], field: str = "action", default_key: str = "action") -> ActionMap:
    """`action: KEY` or `action: {key, dims, scale, low, high, from_stats, invert, clip}`."""
    if value is None:
        return ActionMap(key=default_key)
    if isinstance(value, str):
        return ActionMap(key=value)
    if not isinstance(value, dict):
        raise ContractError(f"expected a key name or a mapping, got {value!r}", file=file, field=field)
    check_keys(value, [f.name for f in dataclasses.fields(ActionMap)], file, f"{field}.")
    low, high = _numbers(value.get("low"), file, f"{field}.low"), _numbers(value.get("high"), file, f"{field}.high")
    if (low is None) != (high is None):
        raise ContractError("give both low and high (or neither)", file=file, field=f"{field}.low")
    if low is not None and value.get("from_stats"):
        raise ContractError("give low/high or from_stats, not both", file=file, field=f"{field}.from_stats")
    dims = value.get("dims")
    if dims is not None and not (isinstance(dims, list) and dims and all(isinstance(d, int) for d in dims)):
        raise ContractError(f"dims is a list of dimension indices, got {dims!r}", file=file, field=f"{field}.dims")
    for flag in ("from_stats", "clip", "invert"):
        if not isinstance(value.get(flag, False), bool):
            raise ContractError(f"{flag} is true or false, got {value[flag]!r}", file=file, field=f"{field}.{flag}")
    return ActionMap(key=str(value.get("key", default_key)), dims=tuple(dims) if dims is not None else None,
                     low=low, high=high, from_stats=value.get("from_stats", False), clip=value.get("clip", False),
                     scale=_numbers(value.get("scale"), file, f"{field}.scale"), invert=value.get("invert", False))


def parse_concat(value: Any, file: Optional[str], field: str, default_key: str) -> Concat:
    """`KEY`, `{key, ...}` (one part) or a list of those (parts concatenated in order)."""
    if isinstance(value, list):
        if not value:
            raise ContractError("an empty list of parts", file=file, field=field)
        return Concat(tuple(parse_action(v, file, f"{field}[{i}]", default_key) for i, v in enumerate(value)))
    if value is not None and not isinstance(value, (str, dict)):
        raise ContractError(f"expected a key name, a mapping or a list of them, got {value!r}", file=file,
                            field=field)
    return Concat((parse_action(value, file, field, default_key),))


def parse_defaults(data: Mapping[str, Any], file: Optional[str]) -> EpisodeDefaults:
    values = {f.name: data[f.name] for f in dataclasses.fields(EpisodeDefaults) if f.name in data}
    defaults = EpisodeDefaults(**values)
    if defaults.source not in spec.SOURCES:
        raise ContractError(f"source {defaults.source!r} is not one of {list(spec.SOURCES)}", file=file,
                            field="source")
    if defaults.split not in spec.SPLITS:
        raise ContractError(f"split {defaults.split!r} is not one of {list(spec.SPLITS)}", file=file,
                            field="split")
    if defaults.success is not None and not isinstance(defaults.success, bool):
        raise ContractError("success is true, false or absent", file=file, field="success")
    return defaults


DEFAULT_KEYS = tuple(f.name for f in dataclasses.fields(EpisodeDefaults))
