"""Episode views: overlays say who acted, videos hold every step. (Every dataset figure and the
filmstrip are rendered and checked as images by the report test, from the same dataset.)"""

from __future__ import annotations

import numpy as np
import pytest

from tests.viz.conftest import assert_real_image
from viz import style
from viz.episode_views import overlaid_frames, write_episode_video


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
    frames = list(imageio.mimread(path, memtest=False)) if fmt == "gif" else \
        [f for f in imageio.get_reader(path, format="FFMPEG")]
    assert len(frames) == len(episode)
    assert np.asarray(frames[0]).std() > 5
