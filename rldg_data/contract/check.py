"""The contract check of one `Episode`: every rule of the RLDS contract (spec.py), as violations.

Each rule reports the first offending step of a field (step index + field + episode id), so a
user sees exactly where to look. Checks are vectorised over time: validating costs far less than
decoding the images it checks.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError, EpisodeValidationError


def validate_episode(episode: Episode, expected: Optional[spec.DatasetSpec] = None, *,
                     file: Optional[str] = None, label: Optional[str] = None) -> Episode:
    """`episode` itself if it is valid; EpisodeValidationError (naming file, episode, step, field)
    with every violation otherwise."""
    found = episode_violations(episode, expected, file=file, label=label)
    if found:
        raise EpisodeValidationError(found)
    return episode


def episode_violations(episode: Episode, expected: Optional[spec.DatasetSpec] = None, *,
                       file: Optional[str] = None, label: Optional[str] = None) -> list[ContractError]:
    """All contract violations of `episode`, sizes against `expected` when given, each located:
    the file when given, and the episode's id (or `label`, e.g. '#3 in file', when it has none)."""
    found = _violations(episode, expected)
    if file is None and label is None:
        return found
    return [v.located(file=file, episode_id=episode.episode_id or label) for v in found]


def _violations(episode: Episode, expected: Optional[spec.DatasetSpec]) -> list[ContractError]:
    eid = episode.metadata.episode_id or None
    found: list[ContractError] = []

    def bad(reason: str, field: str, step: Optional[int] = None, hint: Optional[str] = None) -> None:
        found.append(ContractError(reason, episode_id=eid, step=step, field=field, hint=hint))

    for name in episode.missing_metadata:
        bad("missing metadata field", f"{spec.EPISODE_METADATA}/{name}",
            hint="every contract episode carries all episode_metadata fields")
    if not episode.metadata.episode_id:
        bad("empty episode_id", f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}")

    steps = episode.steps
    for name in spec.REQUIRED_STEP_FIELDS:
        if name not in steps:
            bad("missing step field", f"{spec.STEPS}/{name}")
    unknown = sorted(set(steps) - set(spec.STEP_DTYPES))
    for name in unknown:
        bad("unknown step field", f"{spec.STEPS}/{name}", hint=f"allowed: {sorted(spec.STEP_DTYPES)}")

    n = len(episode)
    if n == 0:
        bad("empty episode (no steps)", spec.STEPS)
        return found
    shapes = expected.step_shapes() if expected is not None else None
    for name, values in steps.items():
        if name not in spec.STEP_DTYPES:
            continue
        _check_array(name, values, n, shapes, bad)
    if found:
        return found  # value checks below assume the shapes and dtypes are right

    _check_values(steps, n, bad)
    _check_metadata(episode, n, bad)
    return found


def _check_array(name, values, n, shapes, bad) -> None:
    field = f"{spec.STEPS}/{name}"
    values = np.asarray(values)
    want = spec.STEP_DTYPES[name]
    if values.ndim == 0 or len(values) != n:
        bad(f"has {0 if values.ndim == 0 else len(values)} steps, the episode has {n}", field)
        return
    if name in spec.IMAGE_FIELDS and values.dtype == object:
        return  # still-encoded frames (read without decoding): only the step count is checked
    if want is np.str_:
        if values.dtype.kind not in ("U", "S", "O"):
            bad(f"dtype {values.dtype}, expected text", field)
        return
    if values.dtype != np.dtype(want):
        bad(f"dtype {values.dtype}, expected {np.dtype(want)}", field)
        return
    per_step = tuple(values.shape[1:])
    if name in spec.IMAGE_FIELDS:
        if len(per_step) != 3 or per_step[2] != 3:
            bad(f"shape {per_step} per step, expected (H, W, 3)", field)
            return
    elif name in spec.VECTOR_FIELDS:
        if len(per_step) != 1:
            bad(f"shape {per_step} per step, expected a vector", field)
            return
    elif per_step != ():
        bad(f"shape {per_step} per step, expected a scalar", field)
        return
    if shapes is not None:
        if name not in shapes:
            bad("field not declared by this dataset's features", field)
        elif per_step != shapes[name]:
            bad(f"shape {per_step} per step, the dataset declares {shapes[name]}", field)


def _first(mask: np.ndarray) -> Optional[int]:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if len(idx) else None


def _check_values(steps, n, bad) -> None:
    for name in spec.FLOAT_FIELDS:
        if name not in steps:
            continue
        values = steps[name]
        rows = ~np.isfinite(values).reshape(n, -1).all(axis=1)
        step = _first(rows)
        if step is not None:
            bad("non-finite value (NaN or inf)", f"{spec.STEPS}/{name}", step)
    action = steps[spec.ACTION]
    out = ((action < spec.ACTION_LOW) | (action > spec.ACTION_HIGH)).any(axis=1)
    step = _first(out)
    if step is not None and np.isfinite(action[step]).all():
        bad(f"action {action[step].tolist()} outside [{spec.ACTION_LOW}, {spec.ACTION_HIGH}]",
            f"{spec.STEPS}/{spec.ACTION}", step)

    first, last, terminal = steps[spec.IS_FIRST], steps[spec.IS_LAST], steps[spec.IS_TERMINAL]
    if not first[0]:
        bad("is_first is False on step 0", f"{spec.STEPS}/{spec.IS_FIRST}", 0)
    step = _first(first[1:])
    if step is not None:
        bad("is_first is True after step 0", f"{spec.STEPS}/{spec.IS_FIRST}", step + 1)
    if not last[-1]:
        bad("is_last is False on the last step", f"{spec.STEPS}/{spec.IS_LAST}", n - 1)
    step = _first(last[:-1])
    if step is not None:
        bad("is_last is True before the last step", f"{spec.STEPS}/{spec.IS_LAST}", step)
    step = _first(terminal[:-1])
    if step is not None:
        bad("is_terminal is True before the last step", f"{spec.STEPS}/{spec.IS_TERMINAL}", step)

    sources = np.asarray(steps[spec.SOURCE]).astype(str)
    step = _first(~np.isin(sources, spec.SOURCES))
    if step is not None:
        bad(f"source {sources[step]!r} is not one of {list(spec.SOURCES)}",
            f"{spec.STEPS}/{spec.SOURCE}", step)
    step = _first(steps[spec.STAGE] < 0)
    if step is not None:
        bad("negative stage", f"{spec.STEPS}/{spec.STAGE}", step)


def _check_metadata(episode, n, bad) -> None:
    meta = episode.metadata
    prefix = spec.EPISODE_METADATA
    if meta.length != n:
        bad(f"length {meta.length} but the episode has {n} steps", f"{prefix}/{spec.LENGTH}")
    if meta.split not in spec.SPLITS:
        bad(f"split {meta.split!r} is not one of {list(spec.SPLITS)}", f"{prefix}/{spec.SPLIT}")
    if not np.isfinite(meta.episode_return):
        bad("non-finite episode_return", f"{prefix}/{spec.EPISODE_RETURN}")
    if not meta.task:
        bad("empty task", f"{prefix}/{spec.TASK}")
