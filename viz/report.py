"""`rldg report`: every figure of a dataset, sample episodes and a static HTML page, in one folder.

`build_report(path, out_dir)` reads the dataset once (`collect_dataset_view`, no image decoding),
saves the dataset figures as PNG, a filmstrip plus an MP4 and a GIF for a few sample episodes per
source, `card.md` (the figure section of a dataset card, linking the same PNGs) and `index.html`
(figures linked relatively, no external scripts or styles: it opens offline). The folder is
written under a temporary name and renamed into place.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import string
import urllib.parse
from importlib import resources
from pathlib import Path
from typing import Callable, Optional

from rldg_data.errors import ConfigError
from rldg_data.io.outputs import check_output, output_dir
from viz import style
from viz.scan import DatasetView, collect_dataset_view, format_length, median_length
from viz.dataset_views import DATASET_FIGURES
from viz.episode_views import filmstrip_figure, write_episode_video
from viz.statistics import STAT_KEYS, statistics_table

log = logging.getLogger(__name__)

REPORT_MARKER = ".rldg-report"
COMMAND = "rldg report"
STATISTICS_JSON = "statistics.json"  # the numbers of the statistics table (dataset_statistics.json layout)


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    """What a report holds: sample episodes per source, video format and frame rate."""

    samples_per_source: int = 1
    video: str = "mp4"  # "mp4", "gif" or "none" (a GIF is always written for the HTML page)
    fps: int = 10
    filmstrip_frames: int = 8
    # Link each sample to its page in `rldg view`: "auto" finds a running viewer of this dataset
    # (viz.view.registry), "" links none, anything else is a viewer's URL.
    viewer: str = "auto"

    def __post_init__(self) -> None:
        if self.video not in ("mp4", "gif", "none"):
            raise ConfigError(f"ReportConfig.video must be 'mp4', 'gif' or 'none', got {self.video!r}")
        if self.samples_per_source < 0 or self.fps <= 0:
            raise ConfigError(f"ReportConfig: samples_per_source must be >= 0 and fps > 0, got {self}")


@dataclasses.dataclass(frozen=True)
class Report:
    """The files a report wrote (paths inside `out_dir`)."""

    out_dir: Path
    html: Path
    figures: dict[str, Path]
    episode_files: dict[str, list[Path]]
    card: Path


def build_report(path: str | os.PathLike, out_dir: str | os.PathLike,
                 config: ReportConfig = ReportConfig(),
                 progress: Optional[Callable[[int], None]] = None, *, force: bool = False) -> Report:
    """Writes the report of the dataset at `path` into `out_dir` (io.outputs: a new or empty folder,
    or with `force` an earlier report holding nothing else; anything else is refused)."""
    out_dir = Path(out_dir)
    check_output(out_dir, COMMAND, force=force, inputs=[path])
    view = collect_dataset_view(path, samples_per_source=config.samples_per_source, progress=progress)
    with output_dir(out_dir, COMMAND, force=force, inputs=[path]) as tmp:
        report = write_report_files(view, tmp, config)
    log.info("wrote report %s", out_dir)
    relocate = lambda p: out_dir / p.relative_to(tmp)  # noqa: E731
    return Report(out_dir, relocate(report.html), {k: relocate(v) for k, v in report.figures.items()},
                  {k: [relocate(p) for p in v] for k, v in report.episode_files.items()},
                  relocate(report.card))


def write_report_files(view: DatasetView, folder: Path, config: ReportConfig = ReportConfig()) -> Report:
    """Writes figures, episode views, card.md, summary.json and index.html of `view` into `folder`."""
    folder = Path(folder)
    figures = {}
    for name, (make, _) in DATASET_FIGURES.items():
        figures[name] = style.save_figure(make(view), folder / "figures" / f"{name}.png")
    episode_files: dict[str, list[Path]] = {}
    for episode in view.samples:
        stem = folder / "episodes" / safe_name(episode.episode_id)
        files = [style.save_figure(filmstrip_figure(episode, config.filmstrip_frames),
                                   stem.with_name(stem.name + "_filmstrip.png"))]
        files.append(write_episode_video(episode, stem.with_suffix(".gif"), config.fps, "gif"))
        if config.video == "mp4":
            files.append(write_episode_video(episode, stem.with_suffix(".mp4"), config.fps, "mp4"))
        episode_files[episode.episode_id] = files
    table = statistics_table(view)
    (folder / "summary.json").write_text(json.dumps(view.summary.to_dict(), indent=2, sort_keys=True))
    (folder / STATISTICS_JSON).write_text(json.dumps(table.statistics, indent=2, sort_keys=True))
    card = folder / "card.md"
    card.write_text(card_section(figures, folder))
    page = folder / "index.html"
    viewer = viewer_url(view.path, config.viewer)
    page.write_text(render_html(view, table, figures, episode_files, folder, viewer=viewer), encoding="utf-8")
    (folder / REPORT_MARKER).write_text("written by rldg report\n")
    return Report(folder, page, figures, episode_files, card)


def viewer_url(dataset_path: str, setting: str) -> Optional[str]:
    """The `rldg view` URL to link samples to: a running viewer of the dataset for "auto" (None if
    none runs), None for "", else `setting` itself."""
    if setting == "auto":
        from viz.view.registry import find_viewer

        return find_viewer(dataset_path)
    return setting.rstrip("/") + "/" if setting else None


def viewer_link(viewer: str, dataset_name: str, episode_id: str) -> str:
    """The viewer page of one episode (resolved by dataset name and episode id)."""
    quote = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    return f"{viewer}#/find/{quote(dataset_name)}/{quote(episode_id)}"


def safe_name(text: str) -> str:
    """A file-name-safe version of an episode id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "episode"


def card_section(figures: dict[str, Path], folder: Path) -> str:
    """The figure section of a dataset card (Markdown), linking the report's PNGs relatively."""
    lines = ["## Figures", ""]
    for name, (_, caption) in DATASET_FIGURES.items():
        if name in figures:
            lines += [f"![{name}]({figures[name].relative_to(folder).as_posix()})", "", f"*{caption}*", ""]
    return "\n".join(lines)


def display_name(view: DatasetView) -> str:
    """The dataset's name for a page title: a builder config's name first (a mix's recipe name,
    `my_mix (rldg_mix) 1.0.0`), else the builder's (`rldg_rollouts 1.0.0` for the default config)."""
    config = Path(view.path).parent.name
    if Path(view.path).parent.parent.name == view.name and config not in ("default", view.name):
        return f"{config} ({view.name}) {view.version}"
    return f"{view.name} {view.version}"


def render_html(view: DatasetView, table, figures: dict[str, Path],
                episode_files: dict[str, list[Path]], folder: Path, viewer: Optional[str] = None) -> str:
    """The report page: summary, per-source table, statistics, figures and sample episodes (each
    linked to its `rldg view` page when `viewer` is a viewer's URL)."""
    summary = view.summary
    rel = lambda p: html.escape(p.relative_to(folder).as_posix(), quote=True)  # noqa: E731
    summary_rows = [
        ("episodes", summary.episodes), ("steps", summary.steps),
        ("transitions (steps with an action)", summary.transitions),
        ("success rate", f"{summary.success_rate:.1%}"),
        ("tasks", ", ".join(f"{k}={v}" for k, v in sorted(summary.episodes_by_task.items()))),
        ("variants", ", ".join(f"{k}={v}" for k, v in sorted(summary.episodes_by_variant.items()))),
        ("splits", ", ".join(f"{k}={v}" for k, v in sorted(summary.episodes_by_dataset_split.items()))),
    ]
    source_rows = []
    for source, rows in view.rows_by("source").items():
        lengths = [r.length for r in rows]
        swatch = f'<span class="swatch" style="background:{style.source_color(source)}"></span>'
        source_rows.append([swatch + html.escape(source), len(rows), sum(lengths),
                            f"{sum(r.success for r in rows) / len(rows):.1%}",
                            format_length(median_length(rows)),
                            f"{sum(r.smoothness for r in rows) / len(rows):.3f}"])
    figure_html = "\n".join(
        f'<figure><img src="{rel(figures[name])}" alt="{name}"><figcaption>{html.escape(caption)}'
        f"</figcaption></figure>" for name, (_, caption) in DATASET_FIGURES.items() if name in figures)
    link = (lambda eid: viewer_link(viewer, view.name, eid)) if viewer else (lambda eid: None)
    episodes_html = "\n".join(_episode_html(eid, files, rel, link(eid)) for eid, files in episode_files.items())
    template = string.Template(resources.files("viz").joinpath("report_template.html").read_text())
    return template.substitute(
        title=html.escape(display_name(view)), path=html.escape(view.path),
        summary_table=_table(["", "value"], [[html.escape(k), html.escape(str(v))] for k, v in summary_rows]),
        sources_table=_table(["source", "episodes", "steps", "success", "median length",
                              "mean |Δa|"], source_rows),
        stats_origin=html.escape(f"{table.num_transitions} transitions (actions), {table.num_steps} steps "
                                 f"(states); {table.origin}."),
        stats_table=_table(["field", *STAT_KEYS], [[n, *(f"{v:.4g}" for v in vals)] for n, vals in table.rows()]),
        figures=figure_html, episodes=episodes_html or '<p class="note">no episodes</p>',
    )


def _episode_html(episode_id: str, files: list[Path], rel, viewer_href: Optional[str] = None) -> str:
    images = [f for f in files if f.suffix in (".png", ".gif")]
    links = " ".join(f'<a href="{rel(f)}">{f.suffix.lstrip(".").upper()}</a>' for f in files)
    if viewer_href:
        links += f' <a class="viewer" href="{html.escape(viewer_href, quote=True)}">open in rldg view</a>'

    body = "".join(f'<img class="{"strip" if f.suffix == ".png" else "anim"}" src="{rel(f)}" '
                   f'alt="{html.escape(episode_id, quote=True)}">' for f in images)
    return f'<h3>{html.escape(episode_id)}</h3><p class="note">{links}</p><div class="episode">{body}</div>'


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
