"""The declarative table of tasks and variants, and `make` / `variants` / `variant_info`.

Like `gymnasium.make`: a variant is a row of parameters; nothing here branches on names.
"""

from __future__ import annotations

from robot_io.tasks.base import Task, VariantInfo
from robot_io.variant_table import TABLE

TASKS = ("insertion", "pick_place", "assembly")


def _task_class(task: str) -> type[Task]:
    if task == "insertion":
        from robot_io.tasks.insertion import InsertionTask
        return InsertionTask
    if task == "pick_place":
        from robot_io.tasks.pick_place import PickPlaceTask
        return PickPlaceTask
    if task == "assembly":
        from robot_io.tasks.assembly import AssemblyTask
        return AssemblyTask
    raise _unknown_task(task)


def _unknown_task(task: str):
    from rldg_data.errors import RldgError
    return RldgError(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}")


def variants(task: str, split: str | None = None) -> list[str]:
    """Variant names of `task`, in table order; `split` is "seen", "unseen" or None (all)."""
    if task not in TABLE:
        raise _unknown_task(task)
    if split not in (None, "seen", "unseen"):
        from rldg_data.errors import RldgError
        raise RldgError(f"split must be 'seen', 'unseen' or None, not {split!r}")
    return [v.variant for v in TABLE[task] if split is None or v.split == split]


def variant_info(task: str, variant: str) -> VariantInfo:
    if task not in TABLE:
        raise _unknown_task(task)
    for info in TABLE[task]:
        if info.variant == variant:
            return info
    from rldg_data.errors import RldgError
    raise RldgError(f"unknown variant {variant!r} of task {task!r}; known: {', '.join(variants(task))}")


def make(task: str, variant: str, *, image_size: int = 64, wrist: bool = False,
         render: bool = True, seed: int | None = None):
    """A `SimEnv` of one task variant (images only when `render`)."""
    from robot_io.sim_env import SimEnv

    info = variant_info(task, variant)
    return SimEnv(_task_class(task)(info), image_size=image_size, wrist=wrist, render=render, seed=seed)
