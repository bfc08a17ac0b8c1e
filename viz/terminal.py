"""`rldg show`: a dataset's summary as rich tables in the terminal.

`summary_tables(view)` builds the tables (overview, per source, per variant, statistics) so a
notebook can display them too; `show_dataset(path)` reads the dataset and prints them.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

import numpy as np
from rich.console import Console
from rich.table import Table

from rldg_data.contract import spec
from viz.scan import DatasetView, collect_dataset_view, format_length, median_length
from viz.statistics import STAT_KEYS, statistics_table


def stage_source_table(view: DatasetView) -> Table:
    """Steps (and episodes) per stage and step source: a hand-off episode (human grasp, RL
    insertion) is counted under each source that acted in it, at its stage."""
    steps, episodes = view.stage_source_steps, view.stage_source_episodes
    sources = sorted({s for _, s in steps}, key=lambda s: (spec.SOURCES.index(s) if s in spec.SOURCES else 99, s))
    table = Table(title="steps (episodes) per stage and source",
                  caption=f"hand-offs: {view.handoffs} episode(s)")
    table.add_column("stage", justify="right")
    for source in sources:
        table.add_column(source, justify="right")
    for stage in sorted({st for st, _ in steps}):
        table.add_row(str(stage), *(f"{steps[(stage, s)]} ({episodes[(stage, s)]})" if steps[(stage, s)] else "-"
                                    for s in sources))
    return table


def summary_tables(view: DatasetView, statistics: bool = True) -> list[Table]:
    """Overview, per-source, per-variant and (optionally) statistics tables of `view`."""
    summary = view.summary
    overview = Table(title=f"{view.name} {view.version}", show_header=False)
    overview.add_column("", style="bold")
    overview.add_column("")
    overview.add_row("path", view.path)
    overview.add_row("episodes", f"{summary.episodes} "
                     f"({', '.join(f'{k}={v}' for k, v in sorted(summary.episodes_by_dataset_split.items()))})")
    overview.add_row("steps", f"{summary.steps} ({summary.transitions} transitions: the last step of "
                     "an episode has no action)")
    overview.add_row("success", f"{summary.success_rate:.1%} ({summary.successes}/{summary.episodes})")
    overview.add_row("tasks", ", ".join(f"{k}={v}" for k, v in sorted(summary.episodes_by_task.items())))
    overview.add_row("splits", ", ".join(f"{k}={v}" for k, v in sorted(summary.episodes_by_split.items())))

    sources = Table(title="per source (episodes filed by who acted most; 'steps labelled' counts "
                          "each step by its own source)")
    for column in ("source", "episodes", "episode steps", "steps labelled", "success", "median length",
                   "mean |Δa|"):
        sources.add_column(column, justify="right" if column != "source" else "left",
                           no_wrap=column == "source")
    by_source = view.rows_by("source")
    for source in sorted(set(by_source) | set(summary.steps_by_source)):
        rows = by_source.get(source, [])
        lengths = [r.length for r in rows]
        sources.add_row(source, str(len(rows)), str(sum(lengths)), str(summary.steps_by_source.get(source, 0)),
                        f"{np.mean([r.success for r in rows]):.1%}" if rows else "-",
                        format_length(median_length(rows)) if rows else "-",
                        f"{np.mean([r.smoothness for r in rows]):.3f}" if rows else "-")

    variants = Table(title="per task/variant")
    for column in ("task/variant", "episodes", "success", "median length"):
        variants.add_column(column, justify="right" if column != "task/variant" else "left",
                            no_wrap=column == "task/variant")
    groups: dict[str, list] = {}
    for row in view.rows:
        groups.setdefault(f"{row.task}/{row.variant}", []).append(row)
    for name, rows in sorted(groups.items()):
        variants.add_row(name, str(len(rows)), f"{np.mean([r.success for r in rows]):.1%}",
                         format_length(median_length(rows)))
    tables = [overview, sources, stage_source_table(view), variants]
    if statistics:
        table = statistics_table(view)
        stats = Table(title=f"statistics: {table.num_transitions} transitions (actions), "
                            f"{table.num_steps} steps (states); {table.origin}")
        stats.add_column("field", no_wrap=True)
        for key in STAT_KEYS:
            stats.add_column(key, justify="right")
        for name, values in table.rows():
            stats.add_row(name, *(f"{v:.3g}" for v in values))
        tables.append(stats)
    return tables


def show_dataset(path: str | os.PathLike, console: Optional[Console] = None, statistics: bool = True,
                 progress: Optional[Callable[[int], None]] = None) -> DatasetView:
    """Reads the dataset at `path` (no image decoding) and prints its summary tables."""
    view = collect_dataset_view(path, samples_per_source=0, progress=progress)
    console = console or Console()
    for table in summary_tables(view, statistics):
        console.print(table)
    return view
