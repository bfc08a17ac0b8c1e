"""Views of one episode: a filmstrip with action and state traces, and a video with overlays.

Both show who acted (`source`) and the task stage at each step, the two things a researcher checks
before keeping an episode. Frames are decoded here, only for the episode being shown; an episode
read with `decode_images=False` (still-encoded frames) is accepted as is.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ConfigError, UnavailableError
from rldg_data.io.atomic import atomic_file
from rldg_data.io.images import decode_images
from viz import style
from viz.style import plt

log = logging.getLogger(__name__)

OVERLAY_MIN_SIZE = 192  # frames are upscaled to at least this many pixels so the text is legible


def episode_frames(episode: Episode, field: str = spec.IMAGE) -> np.ndarray:
    """uint8 [T, H, W, 3] frames of `field`, decoding them if they are still encoded."""
    frames = episode.steps[field]
    if frames.dtype == object:
        frames = decode_images(list(frames))
    return np.asarray(frames, np.uint8)


def filmstrip_figure(episode: Episode, num_frames: int = 8):
    """A figure: `num_frames` evenly spaced frames (titled step, source, stage) above the action
    and state traces, with the steps of each source shaded in its colour."""
    frames = episode_frames(episode)
    n = len(frames)
    picks = np.unique(np.linspace(0, n - 1, min(num_frames, n)).round().astype(int))
    sources = np.asarray(episode.sources, dtype=str)
    stages = episode.steps[spec.STAGE]
    fig = plt.figure(figsize=(max(8, 1.3 * len(picks)), 6.5), layout="constrained")
    grid = fig.add_gridspec(3, len(picks), height_ratios=[1.2, 1, 1])
    for col, t in enumerate(picks):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(frames[t])
        ax.set_title(f"t={t}\n{sources[t]} · stage {int(stages[t])}", fontsize=8,
                     color=style.source_color(str(sources[t])))
        ax.axis("off")
    for row, (field, label) in enumerate(((spec.ACTION, "action"), (spec.STATE, "state")), start=1):
        ax = fig.add_subplot(grid[row, :])
        values = np.asarray(episode.steps[field], np.float32)
        for d in range(values.shape[1]):
            ax.plot(values[:, d], lw=1.2, label=f"{label}[{d}]")
        _shade_sources(ax, sources)
        for t in picks:
            ax.axvline(t, color="#bbbbbb", lw=0.6, zorder=0)
        ax.set_ylabel(label)
        ax.legend(fontsize=7, ncol=min(values.shape[1], 8), loc="upper right")
        ax.set_xlim(0, max(n - 1, 1))
    ax.set_xlabel("step")
    meta = episode.metadata
    fig.suptitle(f"{meta.episode_id} — {meta.task}/{meta.variant} ({meta.split}), "
                 f"{'success' if meta.success else 'failure'}, {n} steps", fontsize=10)
    return fig


def _shade_sources(ax, sources: np.ndarray) -> None:
    start = 0
    for t in range(1, len(sources) + 1):
        if t == len(sources) or sources[t] != sources[start]:
            ax.axvspan(start - 0.5, t - 0.5, color=style.source_color(str(sources[start])), alpha=0.12, lw=0)
            start = t


def overlay_frame(frame: np.ndarray, lines: list[str], source: str) -> np.ndarray:
    """`frame` upscaled to at least OVERLAY_MIN_SIZE with `lines` written in a bar in the
    source's colour at the top (PIL's default font: no font files needed)."""
    img = Image.fromarray(np.ascontiguousarray(frame, np.uint8), mode="RGB")
    scale = max(1, int(np.ceil(OVERLAY_MIN_SIZE / max(img.size))))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    line_h = 12
    draw.rectangle([0, 0, img.width, line_h * len(lines) + 4], fill=style.source_rgb(source))
    for i, text in enumerate(lines):
        draw.text((3, 2 + i * line_h), text, fill=(255, 255, 255), font=font)
    return np.asarray(img)


def overlaid_frames(episode: Episode) -> np.ndarray:
    """Every frame of `episode` with its step, source and stage written on it."""
    frames = episode_frames(episode)
    sources = np.asarray(episode.sources, dtype=str)
    stages = episode.steps[spec.STAGE]
    n = len(frames)
    return np.stack([
        overlay_frame(frames[t], [f"{sources[t]}  stage {int(stages[t])}", f"step {t + 1}/{n}"],
                      str(sources[t]))
        for t in range(n)
    ])


def write_episode_video(episode: Episode, path: str | os.PathLike, fps: int = 10,
                        fmt: Optional[str] = None) -> Path:
    """Writes the overlaid frames of `episode` as MP4 (imageio-ffmpeg) or GIF, atomically.

    `fmt` is 'mp4' or 'gif' (default: from the suffix of `path`). An MP4 that cannot be written
    because ffmpeg is unavailable falls back to a GIF beside it (the returned path says which).
    """
    import imageio.v2 as imageio

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "mp4").lower()
    if fmt not in ("mp4", "gif"):
        raise ConfigError(f"video format must be 'mp4' or 'gif', got {fmt!r}")
    frames = overlaid_frames(episode)
    if fmt == "mp4":
        try:
            return _write_mp4(frames, path.with_suffix(".mp4"), fps, imageio)
        except UnavailableError as exc:
            log.warning("%s; writing a GIF instead", exc)
            fmt = "gif"
    return _write_gif(frames, path.with_suffix(".gif"), fps)


def _write_gif(frames: np.ndarray, target: Path, fps: int) -> Path:
    """GIF through PIL with a fast octree palette per frame (median cut, imageio's default, is
    several times slower and the overlays are flat colours anyway)."""
    images = [Image.fromarray(f).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
              for f in frames]
    with atomic_file(target) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(round(1000 / fps)), loop=0, optimize=False, disposal=1)
    return target


@contextlib.contextmanager
def ffmpeg_without_fork_hooks():
    """imageio-ffmpeg starts ffmpeg with `preexec_fn=os.setpgrp` (so Ctrl-C reaches Python only),
    which makes Python fork in a way that runs at-fork hooks: in a process that imported JAX (a
    notebook, a trainer) JAX warns that fork after its threads started can deadlock. Its own
    switch IMAGEIO_FFMPEG_NO_PREVENT_SIGINT starts ffmpeg with a plain fork+exec (no Python code
    runs in the child); set only while ffmpeg is started here."""
    key = "IMAGEIO_FFMPEG_NO_PREVENT_SIGINT"
    old = os.environ.get(key)
    os.environ[key] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def _write_mp4(frames: np.ndarray, target: Path, fps: int, imageio) -> Path:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError as exc:
        raise UnavailableError("MP4 needs imageio-ffmpeg (pip install imageio-ffmpeg)") from exc
    h, w = frames.shape[1:3]
    pad = ((0, 0), (0, (-h) % 16), (0, (-w) % 16), (0, 0))  # H.264 wants sizes divisible by 16
    frames = np.pad(frames, pad, mode="edge")
    with atomic_file(target) as tmp, ffmpeg_without_fork_hooks():
        imageio.mimsave(tmp, list(frames), format="FFMPEG", fps=fps, codec="libx264",
                        pixelformat="yuv420p", macro_block_size=16, output_params=["-loglevel", "error"])
    return target
