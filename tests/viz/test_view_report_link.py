"""`rldg report` links each sample episode to its `rldg view` page while a viewer of the dataset
runs (found through the viewer registry), and the link resolves to that episode in the viewer."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request

from viz.report import ReportConfig, build_report, viewer_url
from viz.view import registry
from viz.view.server import ViewConfig, Viewer


def test_report_links_samples_to_a_running_viewer(viz_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("RLDG_VIEW_REGISTRY", str(tmp_path / "registry"))
    assert viewer_url(str(viz_dataset), "auto") is None
    with Viewer([str(viz_dataset)], ViewConfig(port=0)) as viewer:
        note = registry.announce(viewer.url, [viz_dataset])
        try:
            report = build_report(viz_dataset, tmp_path / "report", ReportConfig(video="none"))
        finally:
            registry.withdraw(note)
        links = re.findall(r'<a class="viewer" href="([^"]+)"', report.html.read_text())
        assert len(links) == len(report.episode_files) >= 3
        for link in links:
            assert link.startswith(viewer.url + "#/find/vizmix/")
            dataset, episode_id = (urllib.parse.unquote(p) for p in link.split("#/find/")[1].split("/"))
            query = urllib.parse.urlencode({"dataset": dataset, "episode_id": episode_id})
            row = json.loads(urllib.request.urlopen(viewer.url + "api/find?" + query).read())["row"]
            episode = json.loads(urllib.request.urlopen(viewer.url + f"api/episode/{row}").read())
            assert episode["metadata"]["episode_id"] == episode_id
            assert episode_id in report.episode_files


def test_no_viewer_no_links_and_an_explicit_url(viz_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("RLDG_VIEW_REGISTRY", str(tmp_path / "registry"))
    assert viewer_url(str(viz_dataset), "") is None
    assert viewer_url(str(viz_dataset), "http://127.0.0.1:9000") == "http://127.0.0.1:9000/"
