"""Mixing recipes: YAML -> frozen dataclasses, validated in exactly this one place.

The format, every key with an example: docs/RECIPES.md.

A recipe names its sources (contract datasets on disk), per-source filters, relabels, weights or
episode counts, the validation fraction and a seed:

    name: peg_mix                 # output dataset name
    seed: 0
    val_fraction: 0.05            # episodes hashed into the `val` split (0 for none)
    filters: {success_only: true} # defaults for every source
    relabels: {sparse_reward: true, language: {"*": "insert the {variant} peg"}}
    sources:
      rl:    {path: data/rl/1.0.0, weight: 0.7}
      human: {path: data/human/1.0.0, weight: 0.3, filters: {max_length: 300}}

Weights are the requested proportions of the mix (normalized); `count` asks for exact episode
numbers instead (one or the other for every source); with neither, every episode is kept. An
unknown key, a missing source, or a bad value raises `RecipeError` naming it. `Recipe.hash` is the
sha256 of the canonical recipe (sorted JSON): it is written into every selected episode.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Optional

from rldg_data.configs import check_keys
from rldg_data.errors import RecipeError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    """Which episodes of a source may be selected."""

    success_only: bool = False
    min_length: Optional[int] = None
    max_length: Optional[int] = None
    action_bound: Optional[float] = None
    tasks: Optional[tuple[str, ...]] = None
    variants: Optional[tuple[str, ...]] = None
    splits: Optional[tuple[str, ...]] = None
    step_sources: Optional[tuple[str, ...]] = None


@dataclasses.dataclass(frozen=True)
class ActionRelabel:
    """Replace actions of steps whose source is in `sources` with the policy checkpoint's actions."""

    policy: str
    sources: tuple[str, ...] = ("human",)
    decode_images: bool = False  # image policies need decoded frames (slower)


@dataclasses.dataclass(frozen=True)
class RelabelConfig:
    """How selected episodes are rewritten (applied in this order)."""

    trim_pauses: bool = False  # drop human steps without hand motion (transforms.pauses)
    sparse_reward: bool = False
    language: Optional[tuple[tuple[str, str], ...]] = None  # (key, template) pairs
    stages: Optional[str] = None  # "from_sources"
    actions: Optional[ActionRelabel] = None


@dataclasses.dataclass(frozen=True)
class SourceConfig:
    name: str
    path: str
    splits: Optional[tuple[str, ...]] = None  # TFDS splits of the source to read (None: all)
    weight: Optional[float] = None
    count: Optional[int] = None
    filters: FilterConfig = FilterConfig()
    relabels: RelabelConfig = RelabelConfig()
    location: str = dataclasses.field(default="", compare=False)  # resolved folder; not hashed


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    sources: tuple[SourceConfig, ...]
    seed: int = 0
    val_fraction: float = 0.05
    version: str = "1.0.0"
    description: str = ""

    @property
    def hash(self) -> str:
        """sha256 of the canonical recipe: same recipe, same hash, on any machine."""
        values = dataclasses.asdict(self)
        for source in values["sources"]:
            source.pop("location")  # machine-specific: the same recipe hashes alike everywhere
        text = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise RecipeError(f"recipe {self.name!r} has no source {name!r}")

    @property
    def uses_weights(self) -> bool:
        return any(s.weight is not None for s in self.sources)


_TOP_KEYS = {"name", "sources", "seed", "val_fraction", "version", "description", "filters", "relabels"}
_SOURCE_KEYS = {"path", "split", "splits", "weight", "count", "filters", "relabels"}


def _check_keys(values: Any, allowed: set[str], where: str) -> Mapping:
    return check_keys(values, allowed, where, error=RecipeError)


def _tuple(value, where: str) -> Optional[tuple[str, ...]]:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise RecipeError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _filters(values: Mapping, where: str) -> FilterConfig:
    names = {f.name for f in dataclasses.fields(FilterConfig)}
    _check_keys(values, names, where)
    kwargs = dict(values)
    for key in ("tasks", "variants", "splits", "step_sources"):
        if key in kwargs:
            kwargs[key] = _tuple(kwargs[key], f"{where}.{key}")
    for key in ("min_length", "max_length"):
        if kwargs.get(key) is not None and (not isinstance(kwargs[key], int) or kwargs[key] < 0):
            raise RecipeError(f"{where}.{key}: expected a non-negative integer, got {kwargs[key]!r}")
    return FilterConfig(**kwargs)


def _relabels(values: Mapping, where: str, base_dir: Path) -> RelabelConfig:
    _check_keys(values, {f.name for f in dataclasses.fields(RelabelConfig)}, where)
    kwargs = dict(values)
    if kwargs.get("language") is not None:
        lang = kwargs["language"]
        if isinstance(lang, str):
            lang = {"*": lang}
        _check_keys(lang, set(map(str, lang)), f"{where}.language")
        kwargs["language"] = tuple(sorted((str(k), str(v)) for k, v in lang.items()))
    if not isinstance(kwargs.get("trim_pauses", False), bool):
        raise RecipeError(f"{where}.trim_pauses: expected true or false, got {kwargs['trim_pauses']!r}")
    if kwargs.get("stages") not in (None, "from_sources"):
        raise RecipeError(f"{where}.stages: unknown stage labeling {kwargs['stages']!r} (use from_sources)")
    if kwargs.get("actions") is not None:
        act = _check_keys(kwargs["actions"], {"policy", "sources", "decode_images"}, f"{where}.actions")
        if "policy" not in act:
            raise RecipeError(f"{where}.actions: missing key 'policy' (a checkpoint folder)")
        kwargs["actions"] = ActionRelabel(policy=str(act["policy"]),
                                          sources=_tuple(act.get("sources", ["human"]), f"{where}.actions.sources"),
                                          decode_images=bool(act.get("decode_images", False)))
    return RelabelConfig(**kwargs)


def recipe_from_dict(values: Mapping, base_dir: str | os.PathLike = ".", check_paths: bool = True) -> Recipe:
    """Builds and validates a `Recipe`; relative source paths are relative to `base_dir`."""
    base = Path(base_dir)
    _check_keys(values, _TOP_KEYS, "recipe")
    for key in ("name", "sources"):
        if key not in values:
            raise RecipeError(f"recipe: missing key {key!r}")
    name = str(values["name"])
    if not _NAME.match(name):
        raise RecipeError(f"recipe.name: {name!r} must be lower_snake_case (a TFDS dataset name)")
    default_filters = dict(values.get("filters") or {})
    default_relabels = dict(values.get("relabels") or {})
    _filters(default_filters, "recipe.filters")
    sources_in = values["sources"]
    if not isinstance(sources_in, Mapping) or not sources_in:
        raise RecipeError("recipe.sources: expected a non-empty mapping of source name -> settings")
    sources = [_source(str(k), v, default_filters, default_relabels, base, check_paths)
               for k, v in sources_in.items()]
    has_w = [s.weight is not None for s in sources]
    has_c = [s.count is not None for s in sources]
    if any(has_w) and any(has_c) or (any(has_w) and not all(has_w)) or (any(has_c) and not all(has_c)):
        raise RecipeError("recipe.sources: give every source a `weight`, or every source a `count`, or none")
    val = values.get("val_fraction", 0.05)
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 <= val < 1:
        raise RecipeError(f"recipe.val_fraction: expected a number in [0, 1), got {val!r}")
    seed = values.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RecipeError(f"recipe.seed: expected a non-negative integer, got {seed!r}")
    return Recipe(name=name, sources=tuple(sources), seed=seed, val_fraction=float(val),
                  version=str(values.get("version", "1.0.0")),
                  description=str(values.get("description", "")))


def _source(name, values, default_filters, default_relabels, base, check_paths) -> SourceConfig:
    where = f"recipe.sources.{name}"
    if not _NAME.match(name):
        raise RecipeError(f"{where}: source name must be lower_snake_case")
    _check_keys(values, _SOURCE_KEYS, where)
    if "path" not in values:
        raise RecipeError(f"{where}: missing key 'path' (a contract dataset folder)")
    written = str(values["path"])
    path = Path(os.path.expanduser(written))
    path = path if path.is_absolute() else (base / path)
    if check_paths:
        from rldg_data.errors import DatasetError
        from rldg_data.io.reader import resolve_dataset_dir

        try:
            path = resolve_dataset_dir(path)
        except DatasetError as exc:
            raise RecipeError(f"{where}: source dataset missing or unreadable: {exc}") from exc
    weight, count = values.get("weight"), values.get("count")
    if weight is not None and (not isinstance(weight, (int, float)) or weight <= 0):
        raise RecipeError(f"{where}.weight: expected a positive number, got {weight!r}")
    if count is not None and (not isinstance(count, int) or count < 0):
        raise RecipeError(f"{where}.count: expected a non-negative integer, got {count!r}")
    filters = _filters({**default_filters, **(values.get("filters") or {})}, f"{where}.filters")
    relabels = _relabels({**default_relabels, **(values.get("relabels") or {})}, f"{where}.relabels", base)
    return SourceConfig(name=name, path=written, location=str(path), splits=_tuple(values.get("splits", values.get("split")),
                                                                  f"{where}.splits"),
                        weight=None if weight is None else float(weight), count=count,
                        filters=filters, relabels=relabels)


def load_recipe(path: str | os.PathLike, check_paths: bool = True) -> Recipe:
    """Reads a YAML recipe file; source paths are relative to the file's folder."""
    import yaml

    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise RecipeError(f"recipe file {path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise RecipeError(f"recipe file {path} is not valid YAML: {exc}") from exc
    try:
        return recipe_from_dict(values or {}, path.parent, check_paths)
    except RecipeError as exc:
        raise RecipeError(f"{path}: {exc}") from exc
