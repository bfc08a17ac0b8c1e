"""The declarative table of tasks and variants, and `make` / `variants` / `variant_info`.

Like `gymnasium.make`: a variant is a row of parameters; nothing here branches on names.
"""

from __future__ import annotations

from robot_io.sim.tasks.base import Task
from robot_io.sim.variants import TASKS, VariantInfo, unknown_task, variant_info, variants

__all__ = ["TASKS", "VariantInfo", "make", "variant_info", "variants"]


def _task_class(task: str) -> type[Task]:
    if task == "insertion":
        from robot_io.sim.tasks.insertion import InsertionTask
        return InsertionTask
    if task == "pick_place":
        from robot_io.sim.tasks.pick_place import PickPlaceTask
        return PickPlaceTask
    if task == "assembly":
        from robot_io.sim.tasks.assembly import AssemblyTask
        return AssemblyTask
    raise unknown_task(task)


def make(task: str, variant: str, *, image_size: int = 64, wrist: bool = False,
         render: bool = True, seed: int | None = None):
    """A `SimEnv` of one task variant (images only when `render`)."""
    from robot_io.sim.env import SimEnv

    info = variant_info(task, variant)
    return SimEnv(_task_class(task)(info), image_size=image_size, wrist=wrist, render=render, seed=seed)
