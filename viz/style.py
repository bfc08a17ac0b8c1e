"""Shared look and file handling of every figure: Agg backend, one colour per source, atomic saves.

Importing this module selects matplotlib's Agg backend (no display needed, same pixels on every
machine) unless a notebook already chose an inline one.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

if "inline" not in matplotlib.get_backend().lower():
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rldg_data.io.atomic import atomic_file  # noqa: E402

# Colour of each source in every figure and overlay (colour-blind-safe Okabe-Ito).
SOURCE_COLORS = {
    "rl": "#0072B2",
    "human": "#E69F00",
    "intervention": "#D55E00",
    "scripted": "#009E73",
}
OTHER_COLOR = "#777777"
DPI = 100


def source_color(source: str) -> str:
    return SOURCE_COLORS.get(source, OTHER_COLOR)


def source_rgb(source: str) -> tuple[int, int, int]:
    """The source's colour as an RGB byte triple (for PIL overlays)."""
    hexcode = source_color(source).lstrip("#")
    return tuple(int(hexcode[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def save_figure(fig, path: str | os.PathLike, close: bool = True) -> Path:
    """Saves `fig` as PNG at `path` atomically; closes it unless told not to.

    Figures lay themselves out (tight_layout) so one draw suffices (bbox_inches="tight" draws
    twice), and zlib level 1 keeps PNG encoding from dominating a report's time.
    """
    path = Path(path)
    try:
        with atomic_file(path) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    finally:
        if close:
            plt.close(fig)
    return path


def empty_axes_note(ax, text: str = "no data") -> None:
    """Marks an axes that has nothing to show, so a figure still says why it is empty."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=OTHER_COLOR)
    ax.set_xticks([])
    ax.set_yticks([])
