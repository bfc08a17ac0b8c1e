"""LeRobot v3.0 datasets written by LeRobot 0.4.4's own code import and validate (issue 33).

tests/data/lerobot_written/ was made once by tests/data/make_lerobot_fixtures.py in a side
environment with lerobot==0.4.4 (`LeRobotDataset.create`, `add_frame`, `save_episode`, `finalize`;
2 episodes x 12 frames at 10 fps; the camera as h264 video in `video/`, as PNG images in the parquet
in `image/`; in `files/`, 4 episodes of 12, 9, 15 and 7 frames that LeRobot spread, under tiny file-size
limits of its own, over several data, video and meta/episodes files in two chunk folders). LeRobot
writes meta/tasks.parquet with the task strings as the DataFrame's unnamed index
(`__index_level_0__`), which our own export does not, so a round trip alone missed it.
The users' commands are run: `tfds build builders/lerobot_import --manual_dir DIR`, then
`rldg validate`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rldg_data.cli import main
from rldg_data.contract import spec
from rldg_data.imports.lerobot_files import open_lerobot
from rldg_data.io.reader import read_episodes

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "data" / "lerobot_written"
TASKS = ("put the peg in the hole", "pick up the block")
LENGTHS = {"video": (12, 12), "image": (12, 12), "files": (12, 9, 15, 7)}  # frames of each episode


def _expected_colour(episode: int, t: int) -> np.ndarray:
    """What make_lerobot_fixtures.py painted on frame t of episode `episode`."""
    return np.array([20 * t % 256, (100 + 60 * episode) % 256, 200 - 10 * t], np.float64)


def test_fixtures_were_written_by_lerobot_with_the_unnamed_task_index():
    import pyarrow.parquet as pq

    assert json.loads((FIXTURES / "MADE_BY.json").read_text())["lerobot"] == "0.4.4"
    for layout in LENGTHS:
        table = pq.read_table(FIXTURES / layout / "meta" / "tasks.parquet")
        assert "task" not in table.column_names and "__index_level_0__" in table.column_names
        assert table.schema.pandas_metadata["index_columns"] == ["__index_level_0__"]


def test_files_fixture_spans_several_files_of_each_kind():
    """LeRobot itself split `files/` (the point of that fixture): several data, video and episode
    metadata files, over two chunk folders, a video file holding more than one episode."""
    root = FIXTURES / "files"
    for kind in ("data", "videos/observation.images.front", "meta/episodes"):
        assert len(list((root / kind).glob("chunk-*/*.*"))) >= 2, kind
    assert list((root / "meta" / "episodes").glob("chunk-001/*.parquet"))
    rows = open_lerobot(root).episodes
    assert len({r["data/file_index"] + 1000 * r["data/chunk_index"] for r in rows}) >= 2
    key = "videos/observation.images.front"
    assert any(r[f"{key}/from_timestamp"] > 0 for r in rows)  # an episode that starts inside a video file


@pytest.mark.parametrize("layout", list(LENGTHS))
def test_reader_reads_what_lerobot_wrote(layout):
    folder = open_lerobot(FIXTURES / layout)
    assert folder.tasks == {0: TASKS[0], 1: TASKS[1]} and folder.fps == 10
    lengths = LENGTHS[layout]
    assert [frames.index for frames in folder.iter_frames(cameras=[])] == list(range(len(lengths)))
    for frames in folder.iter_frames():
        ep, n = frames.index, lengths[frames.index]
        assert frames.tasks == [TASKS[ep % 2]] * n
        camera = frames.cameras["observation.images.front"]
        assert camera.shape == (n, 32, 32, 3)
        got = camera.reshape(n, -1, 3).mean(axis=1)
        want = np.stack([_expected_colour(ep, t) for t in range(n)])
        assert np.abs(got - want).max() <= (0 if layout == "image" else 6), (layout, ep)
        np.testing.assert_array_equal(frames.columns["observation.state"][:, 0], np.full(n, ep))
        np.testing.assert_array_equal(frames.columns["observation.state"][:, 1], np.arange(n))


@pytest.mark.parametrize("layout", list(LENGTHS))
def test_tfds_build_and_validate_accept_lerobot_written_data(layout, tmp_path, capsys):
    """`video`: the issue's command as it was run (no mapping: the defaults); `image`: with a mapping;
    `files`: episodes spread over several files, each episode's boundaries right across them."""
    extra = []
    if layout == "image":
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text("state: observation.state\nimage: observation.images.front\n"
                           "action: {key: action, low: -1, high: 1}\ntask: lerobot_written\n")
        extra = ["--config", json.dumps({"name": layout, "mapping": str(mapping)})]
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    res = subprocess.run([str(Path(sys.executable).parent / "tfds"), "build", "builders/lerobot_import",
                          "--data_dir", str(tmp_path / "data"), "--manual_dir", str(FIXTURES / layout), *extra],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    built = tmp_path / "data" / "lerobot_import" / ("default" if layout != "image" else layout) / "1.0.0"
    assert main(["validate", str(built)]) == 0, capsys.readouterr().out
    episodes = sorted(read_episodes(built), key=lambda e: e.metadata.seed)
    lengths = LENGTHS[layout]
    assert [e.metadata.length for e in episodes] == list(lengths)
    assert [str(e.steps[spec.LANGUAGE_INSTRUCTION][0]) for e in episodes] == [TASKS[i % 2] for i in range(len(lengths))]
    assert json.loads((built / "metadata.json").read_text())["fps"] == 10
    # the action mapped from [-1, 1] as given: equal to what LeRobot stored
    stored = open_lerobot(FIXTURES / layout)
    for i, (episode, frames) in enumerate(zip(episodes, stored.iter_frames(cameras=[]))):
        np.testing.assert_allclose(episode.steps[spec.ACTION], frames.columns["action"], atol=1e-6)
        # each episode's own frames, first to last: no frame of a neighbour in the same file
        np.testing.assert_array_equal(episode.steps[spec.STATE][:, :2],
                                      np.stack([np.full(lengths[i], i), np.arange(lengths[i])], 1))
        assert episode.steps[spec.IS_FIRST].tolist() == [True] + [False] * (lengths[i] - 1)
        assert episode.steps[spec.IS_LAST].tolist() == [False] * (lengths[i] - 1) + [True]


@pytest.mark.parametrize("layout", list(LENGTHS))
def test_rldg_import_lerobot_accepts_lerobot_written_data(layout, tmp_path, capsys):
    """`rldg import lerobot DIR --out D` (no TFDS build), then `rldg validate`."""
    assert main(["import", "lerobot", str(FIXTURES / layout), "--out", str(tmp_path), "--name", layout]) == 0
    built = tmp_path / layout / "1.0.0"
    assert main(["validate", str(built)]) == 0, capsys.readouterr().out
    episodes = sorted(read_episodes(built), key=lambda e: e.metadata.seed)
    assert [str(e.steps[spec.LANGUAGE_INSTRUCTION][0]) for e in episodes] == [TASKS[i % 2] for i in range(len(episodes))]
    assert [e.metadata.length for e in episodes] == list(LENGTHS[layout])
    assert json.loads((built / "metadata.json").read_text())["fps"] == 10
    assert main(["import", "lerobot", str(FIXTURES / layout), "--out", str(tmp_path), "--name", layout]) == 2
    assert "already exists" in capsys.readouterr().err
