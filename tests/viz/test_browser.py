"""The HTML report loads in headless Chromium with no console errors (skips without Chromium)."""

from __future__ import annotations

import pytest

from rldg_data.errors import UnavailableError
from viz.browser import check_page, find_chromium


@pytest.fixture(scope="module")
def chromium():
    try:
        return find_chromium()
    except UnavailableError as exc:
        pytest.skip(f"{exc} (make test installs it where the machine allows)")


def test_report_loads_without_console_errors(chromium, viz_report):
    result = check_page(viz_report.html)
    assert result.loaded
    assert result.errors == []
    assert result.broken_images == []
    assert result.num_images >= 6


def test_a_broken_page_is_caught(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="missing.png">'
                    '<script>console.error("boom"); not_defined();</script></body></html>')
    result = check_page(page)
    assert not result.ok
    assert result.broken_images == ["missing.png"]
    assert any("boom" in e for e in result.errors)
    assert any("not_defined" in e for e in result.errors)
