"""Writes tests/data/lerobot_written/: small LeRobot v3.0 datasets made by LeRobot's OWN code.

Run once, in a side environment with LeRobot (not this project's venv):

    python3 -m venv /tmp/lerobot-venv && /tmp/lerobot-venv/bin/pip install lerobot==0.4.4
    /tmp/lerobot-venv/bin/python tests/data/make_lerobot_fixtures.py tests/data/lerobot_written [LAYOUT ...]

(lerobot 0.4.4 pins torch < 2.11, so pip brings a CUDA torch 2.10: ~8 GB of venv, 10-15 min on a loaded
2-core machine.) With LAYOUT names, only those folders are rewritten (the others keep their bytes).

Each dataset is made the way a LeRobot user makes one: `LeRobotDataset.create`, `add_frame` for
every frame, `save_episode` after each episode, `finalize` at the end. 2 episodes x 12 frames at
10 fps, a 4-D state, a 3-D action, two tasks (one per episode):

- `video/`: one camera stored as h264 video (`observation.images.front`, 32x32);
- `image/`: the same camera stored as PNG images inside the data parquet (`use_videos=False`);
- `files/`: the `video/` camera over SPLIT_LENGTHS (4 episodes of different lengths, tasks alternating),
  with LeRobot's own file-size limits set tiny (`meta.update_chunk_settings`: data and video files
  of a few KB, 2 files per chunk folder) and episode metadata flushed after each episode, so LeRobot
  spreads the episodes over several data files, video files and meta/episodes files in two chunk
  folders, some files holding two episodes (a video's second episode starts at from_timestamp > 0).

Frames are flat colours that change each step, so a reader's decoded frames can be checked.
LeRobot writes meta/tasks.parquet with the task strings as the DataFrame's unnamed index (the
parquet column `__index_level_0__`), which is what this fixture is for (issue 33).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

FPS = 10
EPISODES = 2
FRAMES = 12
SIZE = 32
TASKS = ("put the peg in the hole", "pick up the block")
SPLIT_LENGTHS = (12, 9, 15, 7)
# LeRobot's limits for `files/` (MB; LeRobot starts a new file when the next episode would reach it)
SPLIT_LIMITS = dict(chunks_size=2, data_files_size_in_mb=0.0025, video_files_size_in_mb=0.006)
LAYOUTS = ("video", "image", "files")


def frame_colour(episode: int, t: int) -> np.ndarray:
    return np.array([20 * t % 256, (100 + 60 * episode) % 256, 200 - 10 * t], np.uint8)


def state(episode: int, t: int) -> np.ndarray:
    return np.array([episode, t, 0.5 * t, -1.0], np.float32)


def action(episode: int, t: int) -> np.ndarray:
    return np.array([0.1 * t - 0.5, -0.05 * t, 0.5 if episode else -0.5], np.float32) 


def make(root: Path, use_videos: bool, lengths=(FRAMES,) * EPISODES, limits=None) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    camera = {"dtype": "video" if use_videos else "image", "shape": (SIZE, SIZE, 3),
              "names": ["height", "width", "channels"]}
    features = {
        "observation.state": {"dtype": "float32", "shape": (4,), "names": ["a", "b", "c", "d"]},
        "action": {"dtype": "float32", "shape": (3,), "names": ["x", "y", "gripper"]},
        "observation.images.front": camera,
    }
    kwargs = dict(repo_id="rldg/lerobot_written", fps=FPS, features=features, root=root, robot_type="sim",
                  use_videos=use_videos)
    if use_videos:
        kwargs["vcodec"] = "h264"
    if limits:
        kwargs["metadata_buffer_size"] = 1  # meta/episodes written (and so sized) after every episode
    dataset = LeRobotDataset.create(**kwargs)
    if limits:
        dataset.meta.update_chunk_settings(**limits)
    for episode, frames in enumerate(lengths):
        for t in range(frames):
            image = np.broadcast_to(frame_colour(episode, t), (SIZE, SIZE, 3)).copy()
            dataset.add_frame({"observation.state": state(episode, t), "action": action(episode, t),
                               "observation.images.front": image, "task": TASKS[episode % 2]})
        dataset.save_episode()
    dataset.finalize()


def main(out: str, layouts=LAYOUTS) -> None:
    import lerobot

    out_dir = Path(out)
    for name in layouts:
        root = out_dir / name
        if root.exists():
            shutil.rmtree(root)
        lengths = SPLIT_LENGTHS if name == "files" else (FRAMES,) * EPISODES
        make(root, name != "image", lengths, SPLIT_LIMITS if name == "files" else None)
        # read back with LeRobot's own reader: the fixture is what LeRobot itself accepts
        from lerobot.datasets.lerobot_dataset import LeRobotDataset

        ds = LeRobotDataset("rldg/lerobot_written", root=root, video_backend="pyav")  # torchcodec needs system FFmpeg
        assert ds.num_episodes == len(lengths) and ds.num_frames == sum(lengths)
        assert ds[lengths[0]]["task"] == TASKS[1]
        if name == "files":  # LeRobot did spread the episodes over several files of each kind
            for kind in ("data", "videos/observation.images.front", "meta/episodes"):
                files = sorted(p.relative_to(root) for p in (root / kind).glob("chunk-*/*.*"))
                assert len(files) >= 2, (kind, files)
                print(name, kind, [str(f) for f in files])
    (out_dir / "MADE_BY.json").write_text(json.dumps({"lerobot": lerobot.__version__,
                                                      "python": sys.version.split()[0],
                                                      "script": "tests/data/make_lerobot_fixtures.py"}, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("lerobot_written")),
         tuple(sys.argv[2:]) or LAYOUTS)
