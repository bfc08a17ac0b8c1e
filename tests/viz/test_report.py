"""`rldg report` and `rldg show`: the files a user opens, and the folder rules."""

from __future__ import annotations

import html.parser
import json

import pytest

from rldg_data.cli import main
from rldg_data.errors import UnsafeInputError
from tests.viz.conftest import assert_real_image
from viz.dataset_views import DATASET_FIGURES
from viz.report import REPORT_MARKER, ReportConfig, build_report


@pytest.fixture
def report(viz_report):
    return viz_report


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("src", "href") and v]


def test_report_writes_every_figure_and_episode_view(report, viz_view):
    assert set(report.figures) == set(DATASET_FIGURES)
    for path in report.figures.values():
        assert_real_image(path, min_size=200)
    assert not list(report.out_dir.rglob(".tmp-*")), "temporary files left behind"
    assert len(report.episode_files) == len(viz_view.sources)
    for files in report.episode_files.values():
        assert sorted(p.suffix for p in files) == [".gif", ".mp4", ".png"]
        for path in files:
            if path.suffix != ".mp4":
                assert_real_image(path)
            assert path.stat().st_size > 0
    summary = json.loads((report.out_dir / "summary.json").read_text())
    assert summary["episodes"] == len(viz_view.rows)


def test_html_links_only_files_inside_the_report(report):
    text = report.html.read_text()
    parser = _Links()
    parser.feed(text)
    assert len(parser.links) >= len(DATASET_FIGURES)
    for link in parser.links:
        assert "://" not in link and not link.startswith("/"), f"non-relative link {link}"
        assert (report.out_dir / link).is_file(), f"broken link {link}"
    for source in ("rl", "human", "scripted", "intervention"):
        assert f">{source}<" in text or f"</span>{source}<" in text


def test_card_section_links_the_figures(report):
    card = report.card.read_text()
    assert card.startswith("## Figures")
    for path in report.figures.values():
        assert f"({path.relative_to(report.out_dir).as_posix()})" in card


def test_report_replaces_only_its_own_earlier_report_with_force(viz_dataset, tmp_path):
    out = tmp_path / "out"
    build_report(viz_dataset, out, ReportConfig(samples_per_source=0, video="none"))
    with pytest.raises(UnsafeInputError, match="pass --force"):
        build_report(viz_dataset, out, ReportConfig(samples_per_source=0, video="none"))
    build_report(viz_dataset, out, ReportConfig(samples_per_source=0, video="none"), force=True)
    assert (out / "index.html").is_file()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UnsafeInputError, match="did not write"):
        build_report(viz_dataset, out, force=True)
    assert (out / "notes.txt").read_text() == "mine"
    old_style = tmp_path / "old"  # a report folder of an earlier version (marker only): not replaced
    old_style.mkdir()
    (old_style / REPORT_MARKER).write_text("an older report")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    for folder in (old_style, precious):
        with pytest.raises(UnsafeInputError, match="not written by rldg"):
            build_report(viz_dataset, folder, force=True)
    assert (precious / "notes.txt").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_cli_show_and_report(viz_dataset, tmp_path, capsys):
    assert main(["show", str(viz_dataset)]) == 0
    out = capsys.readouterr().out
    for text in ("vizmix", "intervention", "insertion/usb_c", "action[0]", "rldg_data.stats"):
        assert text in out
    assert main(["report", str(viz_dataset), "--out", str(tmp_path / "r"), "--video", "gif",
                 "--samples", "0"]) == 0
    assert (tmp_path / "r" / "index.html").is_file()
    assert main(["show", str(tmp_path / "nothing-here")]) == 2
