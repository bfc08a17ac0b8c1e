"""LeRobot v3.0 datasets written by LeRobot 0.4.4's own code import and validate (issue 33).

tests/data/lerobot_written/ was made once by tests/data/make_lerobot_fixtures.py in a side
environment with lerobot==0.4.4 (`LeRobotDataset.create`, `add_frame`, `save_episode`, `finalize`;
2 episodes x 12 frames at 10 fps; the camera as h264 video in `video/`, as PNG images in the parquet
in `image/`). LeRobot writes meta/tasks.parquet with the task strings as the DataFrame's unnamed
index (`__index_level_0__`), which our own export does not, so a round trip alone missed it.
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


def _expected_colour(episode: int, t: int) -> np.ndarray:
    """What make_lerobot_fixtures.py painted on frame t of episode `episode`."""
    return np.array([20 * t % 256, 100 + 60 * episode, 200 - 10 * t], np.float64)


def test_fixtures_were_written_by_lerobot_with_the_unnamed_task_index():
    import pyarrow.parquet as pq

    assert json.loads((FIXTURES / "MADE_BY.json").read_text())["lerobot"] == "0.4.4"
    for layout in ("video", "image"):
        table = pq.read_table(FIXTURES / layout / "meta" / "tasks.parquet")
        assert "task" not in table.column_names and "__index_level_0__" in table.column_names
        assert table.schema.pandas_metadata["index_columns"] == ["__index_level_0__"]


@pytest.mark.parametrize("layout", ["video", "image"])
def test_reader_reads_what_lerobot_wrote(layout):
    folder = open_lerobot(FIXTURES / layout)
    assert folder.tasks == {0: TASKS[0], 1: TASKS[1]} and folder.fps == 10
    for frames in folder.iter_frames():
        ep = frames.index
        assert frames.tasks == [TASKS[ep]] * 12
        camera = frames.cameras["observation.images.front"]
        assert camera.shape == (12, 32, 32, 3)
        got = camera.reshape(12, -1, 3).mean(axis=1)
        want = np.stack([_expected_colour(ep, t) for t in range(12)])
        assert np.abs(got - want).max() <= (0 if layout == "image" else 6), (layout, ep)
        np.testing.assert_array_equal(frames.columns["observation.state"][:, 1], np.arange(12))


@pytest.mark.parametrize("layout", ["video", "image"])
def test_tfds_build_and_validate_accept_lerobot_written_data(layout, tmp_path, capsys):
    """`video`: the issue's command as it was run (no mapping: the defaults); `image`: with a mapping."""
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
    built = tmp_path / "data" / "lerobot_import" / ("default" if layout == "video" else layout) / "1.0.0"
    assert main(["validate", str(built)]) == 0, capsys.readouterr().out
    episodes = sorted(read_episodes(built), key=lambda e: e.metadata.seed)
    assert [e.metadata.length for e in episodes] == [12, 12]
    assert [str(e.steps[spec.LANGUAGE_INSTRUCTION][0]) for e in episodes] == list(TASKS)
    assert json.loads((built / "metadata.json").read_text())["fps"] == 10
    # the action mapped from [-1, 1] as given: equal to what LeRobot stored
    stored = open_lerobot(FIXTURES / layout)
    for episode, frames in zip(episodes, stored.iter_frames(cameras=[])):
        np.testing.assert_allclose(episode.steps[spec.ACTION], frames.columns["action"], atol=1e-6)


@pytest.mark.parametrize("layout", ["video", "image"])
def test_rldg_import_lerobot_accepts_lerobot_written_data(layout, tmp_path, capsys):
    """`rldg import lerobot DIR --out D` (no TFDS build), then `rldg validate`."""
    assert main(["import", "lerobot", str(FIXTURES / layout), "--out", str(tmp_path), "--name", layout]) == 0
    built = tmp_path / layout / "1.0.0"
    assert main(["validate", str(built)]) == 0, capsys.readouterr().out
    episodes = sorted(read_episodes(built), key=lambda e: e.metadata.seed)
    assert [str(e.steps[spec.LANGUAGE_INSTRUCTION][0]) for e in episodes] == list(TASKS)
    assert json.loads((built / "metadata.json").read_text())["fps"] == 10
    assert main(["import", "lerobot", str(FIXTURES / layout), "--out", str(tmp_path), "--name", layout]) == 2
    assert "already exists" in capsys.readouterr().err
