"""Where a specialist's environments and demonstrators come from: the `robot_io` task suite.

Kept apart so the training loop takes plain factories (`make_env(seed)`, `make_demonstrator(kind,
env, seed)`) and a test or notebook can pass any environment with the `robot_io.SimEnv` interface.
"""

from __future__ import annotations

from typing import Any, Callable

from rldg_data.errors import UnavailableError

EnvFactory = Callable[[int], Any]
DemonstratorFactory = Callable[[str, Any, int], Any]


def _robot_io():
    try:
        import robot_io
    except ImportError as exc:  # pragma: no cover - robot_io ships with this distribution
        raise UnavailableError(f"robot_io is not importable ({exc}); install rldg-data with its simulator") from exc
    if not hasattr(robot_io, "make"):
        raise UnavailableError("robot_io.make is not available in this installation (the simulated "
                               "task suite is missing); pass your own environment factory instead")
    return robot_io


def robot_io_env_factory(task: str, variant: str) -> EnvFactory:
    """make_env(seed) -> a state-only (render=False) `robot_io` SimEnv of this task variant."""
    rio = _robot_io()
    rio.variant_info(task, variant)  # fails early, naming the unknown task or variant

    def make_env(seed: int):
        return rio.make(task, variant, render=False, seed=seed)

    return make_env


def robot_io_demonstrator(kind: str, env: Any, seed: int):
    """A `robot_io` demonstrator ("human" proxy or scripted "expert") driving `env`."""
    return _robot_io().make_demonstrator(kind, env, seed=seed)
