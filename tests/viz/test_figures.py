"""Episode views: overlays say who acted, videos hold every step. (Every dataset figure and the
filmstrip are rendered and checked as images by the report test, from the same dataset.)"""

from __future__ import annotations

import numpy as np
import pytest

from tests.viz.conftest import assert_real_image
from viz import style
from viz.episode_views import ffmpeg_without_fork_hooks, overlaid_frames, write_episode_video


def _intervention(viz_view):
    return next(e for e in viz_view.samples if "intervention" in set(e.sources))


def test_overlay_bar_takes_the_colour_of_who_acted(viz_view):
    episode = _intervention(viz_view)
    frames = overlaid_frames(episode)
    assert len(frames) == len(episode)
    assert min(frames.shape[1:3]) >= 192  # upscaled so the text is legible
    for frame, source in zip(frames, episode.sources):
        corner = frame[1, -2]  # inside the bar, right of the text
        assert tuple(corner) == style.source_rgb(str(source))
    assert not np.array_equal(frames[0][:12], frames[-1][:12])  # step counter and source change


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_episode_video_has_one_frame_per_step(viz_view, tmp_path, fmt):
    import imageio.v2 as imageio

    episode = _intervention(viz_view)
    path = write_episode_video(episode, tmp_path / f"episode.{fmt}", fps=5)
    assert path.suffix == f".{fmt}"
    assert_real_image(path) if fmt == "gif" else None
    with ffmpeg_without_fork_hooks():
        frames = list(imageio.mimread(path, memtest=False)) if fmt == "gif" else \
            [f for f in imageio.get_reader(path, format="FFMPEG")]
    assert len(frames) == len(episode)
    assert np.asarray(frames[0]).std() > 5


def test_writing_a_video_in_a_jax_process_does_not_fork_it(tmp_path):
    """Issue 20: JAX warns that os.fork() after its threads started can deadlock; writing an MP4
    (ffmpeg subprocess) from a process that imported JAX must not run Python's fork hooks."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    code = ("import jax, jax.numpy as jnp; jnp.ones(2).sum().block_until_ready()\n"
            "from tests.factories import make_episode\n"
            "from viz.episode_views import write_episode_video\n"
            f"print(write_episode_video(make_episode(12, seed=1), {str(tmp_path / 'e.mp4')!r}))\n")
    res = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], cwd=repo,
                         env=dict(os.environ, PYTHONPATH=str(repo), JAX_PLATFORMS="cpu"),
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0 and "os.fork() was called" not in res.stderr, res.stderr[-2000:]
    assert res.stdout.strip().endswith("e.mp4")
