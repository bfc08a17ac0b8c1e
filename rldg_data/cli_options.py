"""Command-line options made from config dataclasses: one source of defaults and help.

A config dataclass (`SACConfig`, `TrainConfig`, `ImportOptions`, ...) already says each setting's
type and default, and its docstring says what the setting means ("name: text" entries, as in this
project's style). `add_dataclass_options` turns chosen fields into argparse options from exactly
that, so a default changed in the dataclass is the default of the command, and `--help` prints the
dataclass's own words; `from_args` builds the dataclass back from the parsed arguments.

    add_dataclass_options(parser, TrainConfig, ["minutes", "eval_every"], names={"eval_every": "--eval-every"})
    config = from_args(TrainConfig, args, task=..., variant=...)

Help comes from a field's `metadata["help"]` when set, else from the class docstring, else from the
`help` argument; `(default: X)` is added. bool fields become `--x/--no-x`; `Optional[T]` fields
take a T (default None); `tuple[T, ...]` fields take one or more T.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing
from typing import Any, Iterable, Mapping, Optional, Sequence

_ENTRY = re.compile(r"^ {4}([a-z_][a-z0-9_]*(?:, [a-z_][a-z0-9_]*)*): (.*)$")


def docstring_help(cls: type) -> dict[str, str]:
    """`{field: text}` from a dataclass docstring's "name: text" entries (continuation lines indented)."""
    found: dict[str, str] = {}
    current: list[str] = []
    for line in (cls.__doc__ or "").splitlines():
        match = _ENTRY.match(line)
        if match:
            current = []
            for name in match.group(1).split(", "):
                found[name] = current  # type: ignore[assignment]
            current.append(match.group(2).strip())
        elif line.startswith("      ") and current:
            current.append(line.strip())
        else:
            current = []
    return {name: " ".join(parts) for name, parts in found.items()}  # type: ignore[arg-type]


def _unwrap(tp: Any) -> tuple[Any, bool, bool]:
    """(element type, optional?, sequence?) of a field type."""
    optional = False
    origin = typing.get_origin(tp)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional, tp = True, args[0]
        origin = typing.get_origin(tp)
    if origin in (tuple, list, Sequence, typing.Sequence) or tp in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return (args[0] if args else str), optional, True
    return tp, optional, False


def add_dataclass_options(parser: argparse.ArgumentParser, cls: type, fields: Optional[Iterable[str]] = None, *,
                          names: Optional[Mapping[str, str]] = None, help: Optional[Mapping[str, str]] = None,
                          choices: Optional[Mapping[str, Sequence[Any]]] = None) -> list[str]:
    """Adds `--field-name` options for `fields` of dataclass `cls` (all fields with defaults when None).

    names: field -> option string ("--utd" for utd_ratio); help: field -> help text for fields the
    class does not document; choices: field -> allowed values. Returns the field names added (their
    `dest` is the field name).
    """
    hints = typing.get_type_hints(cls)
    documented = docstring_help(cls)
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    if fields is None:
        fields = [f.name for f in dataclasses.fields(cls)
                  if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING]
    added = []
    for name in fields:
        field = by_name[name]
        default = field.default if field.default is not dataclasses.MISSING else (
            field.default_factory() if field.default_factory is not dataclasses.MISSING else None)
        text = (field.metadata.get("help") or documented.get(name) or (help or {}).get(name) or "").rstrip()
        option = (names or {}).get(name, "--" + name.replace("_", "-"))
        kwargs: dict[str, Any] = dict(dest=name, default=default)
        allowed = (choices or {}).get(name) or field.metadata.get("choices")
        if allowed:
            kwargs["choices"] = tuple(allowed)
        elem, _, sequence = _unwrap(hints[name])
        if elem is bool and not sequence:
            kwargs["action"] = argparse.BooleanOptionalAction
            shown = "on" if default else "off"
        else:
            kwargs["type"] = elem if elem in (int, float, str) else str
            if sequence:
                kwargs["nargs"] = "+"
                shown = " ".join(str(v) for v in default) if default else "none"
            else:
                shown = "none" if default is None else ("\"\"" if default == "" else str(default))
            if not allowed:
                kwargs["metavar"] = name.upper()
        kwargs["help"] = (f"{text} " if text else "").replace("%", "%%") + f"(default: {shown})"
        parser.add_argument(option, **kwargs)
        added.append(name)
    return added


def from_args(cls: type, args: argparse.Namespace, **values: Any):
    """`cls(**values, **{field: args.field})` for every field of `cls` found in `args` (not in `values`).

    Sequences become tuples when the field is a tuple (dataclass configs stay hashable and frozen).
    """
    hints = typing.get_type_hints(cls)
    kwargs = dict(values)
    for field in dataclasses.fields(cls):
        if field.name in kwargs or not hasattr(args, field.name):
            continue
        value = getattr(args, field.name)
        if isinstance(value, list) and _unwrap(hints[field.name])[2]:
            value = tuple(value)
        kwargs[field.name] = value
    return cls(**kwargs)
