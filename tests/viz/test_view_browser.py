"""Real headless Chromium against a running `rldg view`: table, source filter, an episode page,
the scrubber moving the frame and the plot cursors, keyboard stepping, the lockstep comparison and
a damaged episode's error; no console errors. Screenshots are kept in $RLDG_TEST_ARTIFACTS/view
(default: test-artifacts/view in the repository). Skips only where Chromium is not installed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rldg_data.errors import UnavailableError
from rldg_data.io.reader import open_dataset
from rldg_data.io.records import scan_shard
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes
from tests.viz.conftest import intervention_episode
from viz.browser import BrowserSession, find_chromium

ROOT = Path(__file__).resolve().parents[2]
# The frame on screen, as pixels: draws the <img> on a canvas and sums its bytes with positions.
FRAME_HASH_JS = """(() => { const img = document.querySelector('img.frame');
  if (!img || !img.complete || !img.naturalWidth) return null;
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let i = 0; i < d.length; i++) h = (h * 31 + d[i]) >>> 0; return h; })()"""


@pytest.fixture(scope="module")
def chromium():
    try:
        return find_chromium()
    except UnavailableError as exc:
        pytest.skip(f"{exc} (apt-get install -y chromium where the machine allows)")


@pytest.fixture(scope="module")
def artefacts():
    folder = Path(os.environ.get("RLDG_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "view"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """A mix-like dataset (with an RL -> human hand-off) and a second, damaged one beside it."""
    root = tmp_path_factory.mktemp("view-browser")
    good = write_dataset(make_episodes(9, seed=3, image_size=32) + [intervention_episode(length=20)],
                         root, "vizmix")
    damaged = write_dataset(make_episodes(4, seed=4, image_size=32), root, "damaged", max_shard_bytes=8_000)
    shard = open_dataset(damaged).shards["train"][0]
    (offset, length), *_ = scan_shard(shard)[0]
    data = bytearray(shard.read_bytes())
    data[offset + length // 2] ^= 0xFF  # inside the first record's frames: its CRC no longer matches
    shard.write_bytes(bytes(data))
    return good, damaged


@pytest.fixture(scope="module")
def served(datasets, tmp_path_factory):
    """`rldg view` started as a user would (a subprocess on a free port); its URL."""
    rldg = Path(sys.executable).parent / "rldg"
    command = [str(rldg)] if rldg.exists() else [sys.executable, "-c", "from rldg_data.cli import main; main()"]
    env = dict(os.environ, RLDG_VIEW_REGISTRY=str(tmp_path_factory.mktemp("registry")),
               RLDG_VIEW_CACHE=str(tmp_path_factory.mktemp("index-cache")))
    proc = subprocess.Popen([*command, "view", *map(str, datasets), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    url, lines = None, []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"serving (http://\S+)", line)
        if found:
            url = found.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail("rldg view did not start:\n" + "".join(lines) + (proc.stdout.read() or ""))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_browse_filter_open_scrub_compare(chromium, served, artefacts):
    with BrowserSession() as b:
        assert b.navigate(served)
        assert b.wait_until("document.querySelectorAll('#episode-rows tr').length === 14", 20)
        b.screenshot(artefacts / "1-table.png")

        # filter by source: the table keeps only that source's episodes
        b.evaluate("(() => { const s = document.querySelector('#filter-source'); s.value = 'intervention';"
                   " s.dispatchEvent(new Event('change', {bubbles: true})); })()")
        assert b.wait_until("document.querySelectorAll('#episode-rows tr').length === 1", 10)
        assert b.evaluate("location.hash").endswith("source=intervention")
        assert b.evaluate("document.querySelector('#page-info').textContent").startswith("1–1 of 1")
        b.screenshot(artefacts / "2-filtered.png")

        # open the episode from its link
        b.evaluate("document.querySelector('#episode-rows a.episode-link').click()")
        assert b.wait_until("document.querySelector('#scrubber') !== null && "
                            "document.querySelector('img.frame') && document.querySelector('img.frame').complete "
                            "&& document.querySelector('img.frame').naturalWidth > 0", 15)
        assert b.evaluate("document.querySelectorAll('.tracks svg').length") >= 2 + 2 + 4 + 4
        assert b.evaluate("document.querySelectorAll('svg.source-band rect').length") == 2  # rl, then the human
        assert b.evaluate("document.querySelectorAll('line.handoff').length") > 0
        before = {"src": b.evaluate("document.querySelector('img.frame').getAttribute('src')"),
                  "pixels": b.evaluate(FRAME_HASH_JS),
                  "cursor": b.evaluate("document.querySelector('line.cursor').getAttribute('x1')"),
                  "readout": b.evaluate("document.querySelectorAll('.track-label')[4].textContent")}
        b.screenshot(artefacts / "3-episode-step0.png")

        # move the scrubber: the frame (its pixels too) and every plot's cursor follow
        b.evaluate("(() => { const s = document.querySelector('#scrubber'); s.value = 12;"
                   " s.dispatchEvent(new Event('input')); })()")
        assert b.wait_until("document.querySelector('img.frame').complete && "
                            "document.querySelector('img.frame').getAttribute('src').endsWith('/12')", 10)
        after = {"src": b.evaluate("document.querySelector('img.frame').getAttribute('src')"),
                 "pixels": b.evaluate(FRAME_HASH_JS),
                 "cursor": b.evaluate("document.querySelector('line.cursor').getAttribute('x1')"),
                 "readout": b.evaluate("document.querySelectorAll('.track-label')[4].textContent")}
        assert after["src"] != before["src"] and after["pixels"] != before["pixels"]
        assert float(before["cursor"]) == 0.5 and float(after["cursor"]) == 12.5
        cursors = b.evaluate("[...document.querySelectorAll('line.cursor')].map(c => c.getAttribute('x1'))")
        assert set(cursors) == {"12.5"}
        assert after["readout"] != before["readout"]
        assert b.evaluate("document.querySelector('#step-label').textContent").startswith("step 12 / 19")
        b.screenshot(artefacts / "4-episode-step12.png")

        # keyboard stepping
        b.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}))")
        assert b.evaluate("document.querySelector('#scrubber').value") == "13"
        b.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowLeft', shiftKey: true}))")
        assert b.evaluate("document.querySelector('#scrubber').value") == "3"

        # play runs at the dataset's rate and stops at the end
        b.evaluate("document.querySelector('#play').click()")
        assert b.wait_until("document.querySelector('#scrubber').value === '19'", 10)
        assert b.wait_until("document.querySelector('#play').textContent.includes('play')", 5)

        # two episodes in lockstep
        b.navigate(served + "#/compare/9/0")
        assert b.wait_until("document.querySelectorAll('section.panel').length === 2", 10)
        b.evaluate("(() => { const s = document.querySelector('#scrubber'); s.value = 4;"
                   " s.dispatchEvent(new Event('input')); })()")
        steps = b.evaluate("[...document.querySelectorAll('section.panel')].map(p => p.dataset.step)")
        assert steps == ["4", "2"]  # the shorter episode (3 steps) holds its last frame
        time.sleep(0.5)
        b.screenshot(artefacts / "5-compare.png")
        assert b.errors() == []


def test_a_damaged_episode_shows_its_error_and_the_rest_browses(chromium, served, artefacts):
    with BrowserSession() as b:
        b.navigate(served + "#/?dataset=damaged")
        assert b.wait_until("document.querySelectorAll('#episode-rows tr').length === 4", 20)
        b.navigate(served + "#/episode/10")  # the damaged dataset's first record
        assert b.wait_until("document.querySelector('.episode-error') !== null", 10)
        text = b.evaluate("document.querySelector('.episode-error').textContent")
        assert "CRC" in text and "damaged" in text
        b.screenshot(artefacts / "6-damaged-episode.png")
        b.navigate(served + "#/episode/11")
        assert b.wait_until("document.querySelector('img.frame') && document.querySelector('img.frame').naturalWidth > 0", 10)
        assert b.evaluate("document.querySelector('.episode-error')") is None
        # the frame request of the damaged episode answers 404 with a JSON error: not the page's
        assert b.errors() == []
