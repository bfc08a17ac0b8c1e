"""Policies as the core sees them: a callable from one observation to one action.

The core never imports trainers; a checkpoint folder names its format in `policy.json`
(`{"format": "specialist", ...}`), and `load_policy` finds the loader registered for that format
in the `rldg.policies` entry-point group of setup.py (trainers registers its own). This is what
collectors use to roll out a checkpoint and what action relabeling uses to query one.
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path
from typing import Mapping, Protocol, runtime_checkable

import numpy as np

from rldg_data.errors import RldgError, UnavailableError

ENTRY_POINT_GROUP = "rldg.policies"
POLICY_FILE = "policy.json"


@runtime_checkable
class Policy(Protocol):
    """Maps one observation dict (`image`, `state`, optional `wrist_image`, `privileged_state`)
    to one action (float32, in [-1, 1]). `policy_id` names it in episode metadata."""

    policy_id: str

    def reset(self, seed: int | None = None) -> None: ...

    def act(self, observation: Mapping[str, np.ndarray]) -> np.ndarray: ...


def policy_format(path: str | os.PathLike) -> str:
    """The format a checkpoint folder declares in its policy.json."""
    file = Path(path) / POLICY_FILE
    try:
        return str(json.loads(file.read_text())["format"])
    except FileNotFoundError as exc:
        raise RldgError(f"{path} is not a policy checkpoint: no {POLICY_FILE} in it") from exc
    except (json.JSONDecodeError, KeyError) as exc:
        raise RldgError(f"{file}: no valid 'format' entry ({exc})") from exc


def load_policy(path: str | os.PathLike, **kwargs) -> Policy:
    """Loads the checkpoint at `path` with the loader registered for its format.

    Every loader accepts `hold=False`: a policy that decides at a lower rate than it is called
    (a specialist trained with action repeat) then decides on every call, which is what labelling
    single states needs; loaders of policies that always decide ignore it.
    """
    fmt = policy_format(path)
    loaders = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    if fmt not in loaders:
        raise UnavailableError(f"no loader for policy format {fmt!r} (known: {sorted(loaders)}); "
                               f"is the package that registers it installed?")
    return loaders[fmt].load()(path, **kwargs)
