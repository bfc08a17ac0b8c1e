"""Figures of a whole dataset, drawn from a `DatasetView` (no images decoded).

Composition (episodes and steps per source, task, variant, split), success rate per variant,
episode length and cycle-time histograms per source, and the RLDG analysis of why RL data trains a
better generalist than human data: per-dimension action histograms, the speed profile along the
episode, and action smoothness. `DATASET_FIGURES` names every figure; each function takes a view
and returns a matplotlib Figure.
"""

from __future__ import annotations

import collections
from typing import Callable

import numpy as np

from viz import style
from viz.scan import DatasetView, format_length
from viz.style import plt


def composition_figure(view: DatasetView):
    """Bars: episodes and steps per source, episodes per task, per task/variant, per split."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    by_source = view.rows_by("source")
    sources = list(by_source)
    ax = axes[0, 0]
    x = np.arange(len(sources))
    ax.bar(x - 0.2, [len(by_source[s]) for s in sources], 0.4, label="episodes",
           color=[style.source_color(s) for s in sources])
    ax2 = ax.twinx()
    ax2.bar(x + 0.2, [sum(r.length for r in by_source[s]) for s in sources], 0.4, label="steps",
            color=[style.source_color(s) for s in sources], alpha=0.45, hatch="//")
    ax.set_xticks(x, sources)
    ax.set_ylabel("episodes (solid)")
    ax2.set_ylabel("steps (hatched)")
    ax.set_title("per source")
    _bars(axes[0, 1], collections.Counter(r.task for r in view.rows), "episodes per task")
    _bars(axes[1, 0], collections.Counter(f"{r.task}/{r.variant}" for r in view.rows),
          "episodes per task/variant")
    _bars(axes[1, 1], collections.Counter(f"{r.dataset_split}:{r.split}" for r in view.rows),
          "episodes per dataset split : seen/unseen")
    fig.suptitle(f"{view.name} {view.version}: {len(view.rows)} episodes, "
                 f"{view.summary.steps} steps")
    fig.tight_layout()
    return fig


def _bars(ax, counts: collections.Counter, title: str) -> None:
    if not counts:
        style.empty_axes_note(ax)
        return
    labels = sorted(counts)
    ax.bar(range(len(labels)), [counts[k] for k in labels], color="#56B4E9")
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 3 else 0, ha="right")
    ax.set_title(title)
    ax.set_ylabel("episodes")


def success_figure(view: DatasetView):
    """Success rate per task/variant, one bar per source, with the episode count on each bar."""
    variants = sorted({f"{r.task}/{r.variant}" for r in view.rows})
    sources = view.sources
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(variants) * max(1, len(sources)) / 2), 4.5))
    if not variants:
        style.empty_axes_note(ax)
        return fig
    width = 0.8 / max(1, len(sources))
    for i, source in enumerate(sources):
        rates, counts = [], []
        for v in variants:
            rows = [r for r in view.rows if r.source == source and f"{r.task}/{r.variant}" == v]
            rates.append(np.mean([r.success for r in rows]) if rows else 0.0)
            counts.append(len(rows))
        x = np.arange(len(variants)) + (i - (len(sources) - 1) / 2) * width
        bars = ax.bar(x, rates, width, label=source, color=style.source_color(source))
        for bar, count in zip(bars, counts):
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.01, f"n={count}",
                    ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(variants)), variants, rotation=20, ha="right")
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("success rate")
    ax.set_title("success rate per variant and source")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def lengths_figure(view: DatasetView):
    """Histograms per source: episode length (all episodes) and cycle time (successful ones: the
    steps to the first success reward, in seconds where the dataset records its rate)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    by_source = view.rows_by("source")
    rate = view.rate
    panels = ((axes[0], lambda r: r.length, False, "episode length", "steps"),
              (axes[1], (lambda r: r.cycle_steps / rate) if rate else (lambda r: r.cycle_steps), True,
               "cycle time (successful episodes: start to first success reward)",
               "seconds" if rate else "steps (the dataset records no rate)"))
    for ax, value, only_success, title, unit in panels:
        drawn = False
        top = max((value(r) for r in view.rows if r.success or not only_success), default=1.0)
        bins = (np.linspace(0, top * 1.05, 30) if unit == "seconds"
                else np.linspace(0, top + 1, min(40, int(top) + 2)))
        for source, rows in by_source.items():
            values = [value(r) for r in rows if r.success or not only_success]
            if not values:
                continue
            median = np.median(values)
            shown = f"{median:.2f} s" if unit == "seconds" else format_length(median)
            ax.hist(values, bins=bins, alpha=0.55, color=style.source_color(source),
                    label=f"{source} (median {shown}, n={len(values)})")
            drawn = True
        if drawn:
            ax.legend(fontsize=8)
            ax.set_xlabel(unit)
            ax.set_ylabel("episodes")
            ax.set_title(title, fontsize=9 if only_success else None)
        else:
            style.empty_axes_note(ax, f"{title}: no episodes")
    fig.tight_layout()
    return fig


def actions_figure(view: DatasetView):
    """One density histogram per action dimension, a curve per step source."""
    dims = max(1, view.action_dim)
    cols = min(dims, 4)
    rows = int(np.ceil(dims / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    bins = np.linspace(-1.0, 1.0, 41)
    for d in range(rows * cols):
        ax = axes.flat[d]
        if d >= view.action_dim:
            ax.axis("off")
            continue
        for source, actions in view.actions.items():
            if len(actions):
                ax.hist(np.clip(actions[:, d], -1, 1), bins=bins, density=True, histtype="step",
                        lw=1.5, color=style.source_color(source), label=source)
        gripper = " (gripper)" if d == view.action_dim - 1 and view.action_dim > 1 else ""
        ax.set_title(f"action[{d}]{gripper}", fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper right", fontsize=8)
    fig.suptitle("action distribution per dimension and source")
    fig.tight_layout()
    return fig


def speed_profile_figure(view: DatasetView):
    """Translation speed |a[:-1]| along normalised episode time: median and quartiles per source."""
    fig, ax = plt.subplots(figsize=(7, 4))
    if not view.profiles:
        style.empty_axes_note(ax)
        return fig
    for source, profiles in view.profiles.items():
        x = np.linspace(0, 1, profiles.shape[1])
        lo, mid, hi = np.percentile(profiles, [25, 50, 75], axis=0)
        color = style.source_color(source)
        ax.plot(x, mid, color=color, lw=2, label=f"{source} (n={len(profiles)})")
        ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)
    ax.set_xlabel("episode progress")
    ax.set_ylabel("action speed")
    ax.set_title("speed profile along the episode (median, 25-75%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def smoothness_figure(view: DatasetView):
    """Per-episode mean |a_t - a_{t-1}| per source (lower is smoother) as box plots."""
    fig, ax = plt.subplots(figsize=(7, 4))
    by_source = view.rows_by("source")
    if not by_source:
        style.empty_axes_note(ax)
        return fig
    sources = [s for s in view.sources if s in by_source]
    data = [[r.smoothness for r in by_source[s]] for s in sources]
    parts = ax.boxplot(data, patch_artist=True)
    ax.set_xticks(range(1, len(sources) + 1), sources)
    for patch, source in zip(parts["boxes"], sources):
        patch.set_facecolor(style.source_color(source))
        patch.set_alpha(0.6)
    ax.set_ylabel("mean |a_t - a_(t-1)|")
    ax.set_title("action smoothness per episode (lower is smoother)")
    fig.tight_layout()
    return fig


# Name -> (figure function, caption). The order is the order of the HTML report.
DATASET_FIGURES: dict[str, tuple[Callable[[DatasetView], object], str]] = {
    "composition": (composition_figure, "Episodes and steps per source, task, variant and split."),
    "success": (success_figure, "Success rate per variant, one bar per source."),
    "lengths": (lengths_figure, "Episode length, and cycle time of successful episodes (start to the first "
                                "success reward) per source."),
    "actions": (actions_figure, "Action distribution per dimension, one curve per source."),
    "speed_profile": (speed_profile_figure, "Action speed along normalised episode time."),
    "smoothness": (smoothness_figure, "Action smoothness per episode and source."),
}
