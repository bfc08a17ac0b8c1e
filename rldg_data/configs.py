"""Mappings into config dataclasses: the one place an unknown or missing key is refused.

Every stored or typed config (recipes, import mappings, episode metadata, trainer and robot
configs) is a frozen dataclass built from a plain mapping (YAML, JSON, a policy.json). The checks
are the same everywhere, so they are written once here: `check_keys` refuses a key the target does
not know and names it with the allowed ones, `dataclass_from_dict` builds the dataclass after that
check. The error class is the caller's (a recipe raises `RecipeError`, a mapping file a located
`ContractError`); `ConfigError` by default.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping, Optional, TypeVar

from rldg_data.errors import ConfigError

T = TypeVar("T")
ErrorFactory = Callable[[str], Exception]


def check_keys(values: Any, allowed: Iterable[str], where: str = "", *,
               error: ErrorFactory = ConfigError) -> Mapping[str, Any]:
    """Returns `values` if it is a mapping whose keys are all in `allowed`; otherwise raises
    `error(message)` naming the first unknown key (sorted) and the allowed ones."""
    prefix = f"{where}: " if where else ""
    if not isinstance(values, Mapping):
        raise error(f"{prefix}expected a mapping, got {type(values).__name__}")
    allowed = set(allowed)
    unknown = sorted(set(values) - allowed, key=str)
    if unknown:
        raise error(f"{prefix}unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    return values


def field_names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass type, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(cls))


def dataclass_from_dict(cls: type[T], values: Any, where: Optional[str] = None, *,
                        error: ErrorFactory = ConfigError) -> T:
    """`cls(**values)` after `check_keys` against its fields; a missing required field or a value
    the dataclass's own checks refuse is raised as `error` too (a TypeError/ValueError from
    `__init__`/`__post_init__` becomes a message naming `where`)."""
    where = where or cls.__name__
    check_keys(values, field_names(cls), where, error=error)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise error(f"{where}: {exc}") from exc
