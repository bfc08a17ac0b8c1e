"""Every registered variant: geometry, colours, split and language instruction, as data.

Insertion connectors (sizes in metres; clearance per side, 1-5 mm): VGA is the seen connector
as in RLDG's real-robot experiments, Type-C, DisplayPort and XLR are unseen, plus two more of
each split so a generalist sees more than one shape.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from rldg_data.errors import RldgError

TASKS = ("insertion", "pick_place", "assembly")


@dataclasses.dataclass(frozen=True)
class VariantInfo:
    """One registered variant of a task: its split, instruction and geometry/colour parameters."""

    task: str
    variant: str
    split: str
    language_instruction: str
    description: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False, compare=False)

WHITE_WOOD = (1.0, 1.0, 1.0, 1.0)


def _ins(name, split, shape, hw, hh, clearance, length, rgba, plate, what):
    return VariantInfo(
        "insertion", name, split, f"insert the {what} connector into its port",
        f"{shape} peg {2000 * hw:.0f}x{2000 * hh:.0f} mm, clearance {1000 * clearance:.1f} mm",
        dict(shape=shape, half_width=hw, half_height=hh, clearance=clearance, length=length,
             rgba=rgba, plate_rgba=plate))


INSERTION = [
    _ins("vga", "seen", "rect", 0.016, 0.008, 0.004, 0.20, (0.15, 0.25, 0.9, 1), (0.85, 0.85, 0.85, 1), "VGA"),
    _ins("ethernet", "seen", "rect", 0.011, 0.010, 0.003, 0.18, (0.9, 0.85, 0.2, 1), (0.3, 0.3, 0.3, 1), "ethernet"),
    _ins("barrel", "seen", "round", 0.010, 0.010, 0.003, 0.20, (0.2, 0.2, 0.2, 1), (0.9, 0.6, 0.3, 1), "barrel power"),
    _ins("type_c", "unseen", "rect", 0.012, 0.005, 0.0015, 0.16, (0.75, 0.75, 0.8, 1), (0.2, 0.2, 0.25, 1), "USB Type-C"),
    _ins("displayport", "unseen", "dshape", 0.014, 0.007, 0.002, 0.19, (0.1, 0.7, 0.3, 1), (0.85, 0.85, 0.85, 1), "DisplayPort"),
    _ins("xlr", "unseen", "round", 0.013, 0.013, 0.002, 0.22, (0.9, 0.2, 0.2, 1), (0.25, 0.25, 0.3, 1), "XLR"),
    _ins("cross", "unseen", "cross", 0.014, 0.014, 0.0015, 0.20, (0.8, 0.3, 0.8, 1), (0.85, 0.85, 0.85, 1), "cross-keyed"),
]

TABLE: dict[str, list[VariantInfo]] = {"insertion": INSERTION, "pick_place": [], "assembly": []}


def _pp(name, split, shape, radius, hh, rgba, table, floor, what, where):
    return VariantInfo(
        "pick_place", name, split, f"pick up the {what} and place it at the goal",
        f"{shape} r={1000 * radius:.0f} mm h={2000 * hh:.0f} mm on {where}",
        dict(shape=shape, radius=radius, half_height=hh, rgba=rgba, table_rgba=table, floor_rgba=floor))


PICK_PLACE = [
    _pp("red_cylinder", "seen", "cylinder", 0.02, 0.02, (0.9, 0.1, 0.1, 1), WHITE_WOOD, WHITE_WOOD, "red cylinder", "wood"),
    _pp("blue_block", "seen", "box", 0.018, 0.02, (0.1, 0.2, 0.9, 1), WHITE_WOOD, WHITE_WOOD, "blue block", "wood"),
    _pp("yellow_cube_dark_table", "unseen", "box", 0.022, 0.022, (0.95, 0.85, 0.1, 1), (0.35, 0.35, 0.4, 1), (0.3, 0.3, 0.5, 1), "yellow cube", "a dark table"),
    _pp("green_can_white_table", "unseen", "cylinder", 0.016, 0.03, (0.1, 0.8, 0.2, 1), (1.6, 1.6, 1.6, 1), (0.8, 0.6, 0.5, 1), "green can", "a light table"),
]


def _asm(name, split, peg_radius, peg_rgba, handle_rgba, table, what):
    return VariantInfo(
        "assembly", name, split, f"put the {what} nut on the peg",
        f"peg radius {1000 * peg_radius:.0f} mm", dict(peg_radius=peg_radius, peg_rgba=peg_rgba,
                                                     handle_rgba=handle_rgba, table_rgba=table))


ASSEMBLY = [
    _asm("round_nut", "seen", 0.02, (1.0, 0.3, 0.3, 1), (0.2, 0.8, 0.2, 1), WHITE_WOOD, "green-handled"),
    _asm("thick_peg_dark_table", "unseen", 0.024, (0.2, 0.4, 1.0, 1), (0.9, 0.6, 0.1, 1), (0.4, 0.4, 0.45, 1), "orange-handled"),
]

TABLE.update({"pick_place": PICK_PLACE, "assembly": ASSEMBLY})


def unknown_task(task: str):
    return RldgError(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}")


def variants(task: str, split: str | None = None) -> list[str]:
    """Variant names of `task`, in table order; `split` is "seen", "unseen" or None (all)."""
    if task not in TABLE:
        raise unknown_task(task)
    if split not in (None, "seen", "unseen"):
            raise RldgError(f"split must be 'seen', 'unseen' or None, not {split!r}")
    return [v.variant for v in TABLE[task] if split is None or v.split == split]


def variant_info(task: str, variant: str) -> VariantInfo:
    if task not in TABLE:
        raise unknown_task(task)
    for info in TABLE[task]:
        if info.variant == variant:
            return info
    raise RldgError(f"unknown variant {variant!r} of task {task!r}; known: {', '.join(variants(task))}")
