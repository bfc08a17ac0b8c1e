"""MP4 video in LeRobot's layout, with PyAV: a streaming writer and a sequential frame reader.

Writer: one constant-frame-rate stream per camera and file; frame k of the file has pts k in a
1/fps time base, so an episode appended after `n` frames starts at exactly n / fps (LeRobot's
`from_timestamp`). Encoder settings are LeRobot's defaults (`configs/video.py`): yuv420p, GOP 2
(a keyframe every other frame, for fast random access), CRF 30; libsvtav1 preset 12.

Reader: decodes a file front to back once, handing each episode the frames whose timestamps are
`from_timestamp + frame_index / fps` within LeRobot's tolerance (1e-4 s), so an import decodes every
frame once and holds at most one episode of frames.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from rldg_data.errors import ContractError, UnavailableError

CODECS = ("h264", "libsvtav1")
DEFAULT_CRF = 30
DEFAULT_GOP = 2
PIX_FMT = "yuv420p"


def encoder_options(vcodec: str, crf: int = DEFAULT_CRF, gop: int = DEFAULT_GOP,
                    threads: Optional[int] = None) -> dict[str, Optional[object]]:
    """LeRobot's encoder fields for `vcodec` (also recorded as `video.*` in info.json)."""
    if vcodec not in CODECS:
        raise UnavailableError(f"video codec {vcodec!r} is not supported: use one of {list(CODECS)}")
    fields = {"g": gop, "crf": crf, "preset": 12 if vcodec == "libsvtav1" else None, "fast_decode": 0}
    if threads is not None:
        fields["threads"] = threads
    return fields


def _codec_options(vcodec: str, fields: dict) -> dict[str, str]:
    opts = {"g": str(fields["g"]), "crf": str(fields["crf"])}
    if fields.get("preset") is not None:
        opts["preset"] = str(fields["preset"])
    threads = fields.get("threads")
    if vcodec == "libsvtav1":
        parts = [f"fast-decode={fields.get('fast_decode', 0)}"] + ([f"lp={threads}"] if threads else [])
        opts["svtav1-params"] = ":".join(parts)
    elif threads:
        opts["threads"] = str(threads)
    return opts


class VideoFileWriter:
    """Appends uint8 RGB frames [N, H, W, 3] to one constant-frame-rate MP4 file."""

    def __init__(self, path: Path, fps: int, height: int, width: int, vcodec: str = "h264",
                 crf: int = DEFAULT_CRF, gop: int = DEFAULT_GOP, threads: Optional[int] = None) -> None:
        import os

        import av

        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr otherwise
        if height % 2 or width % 2:
            raise ContractError(f"frames of {height}x{width} cannot be encoded as {PIX_FMT} (needs even "
                                "height and width)", file=str(path),
                                hint="resize the dataset's images to an even size first")
        self.path, self.fps, self.frames, self.bytes = Path(path), fps, 0, 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("libav").setLevel(logging.WARNING)
        self._container = av.open(str(self.path), "w")
        try:
            self._stream = self._container.add_stream(
                vcodec, fps, options=_codec_options(vcodec, encoder_options(vcodec, crf, gop, threads)))
        except Exception as exc:  # codec missing from this FFmpeg build
            self._container.close()
            raise UnavailableError(f"cannot open video encoder {vcodec!r}: {exc}") from exc
        self._stream.pix_fmt = PIX_FMT
        self._stream.width, self._stream.height = width, height
        self._time_base = Fraction(1, fps)  # the stream's own changes to the muxer's once it starts
        self._stream.time_base = self._time_base
        self._av = av

    def write(self, frames: np.ndarray) -> tuple[int, int]:
        """Encodes frames; returns (first, end) frame numbers of them within this file."""
        first = self.frames
        for frame in frames:
            video_frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            video_frame.pts = self.frames
            video_frame.time_base = self._time_base
            self._mux(self._stream.encode(video_frame))
            self.frames += 1
        return first, self.frames

    def _mux(self, packets) -> None:
        for packet in packets:
            self.bytes += packet.size
            self._container.mux(packet)

    def close(self) -> None:
        self._mux(self._stream.encode(None))
        self._container.close()


def probe(path: Path) -> dict:
    """The `video.*` info LeRobot records from a file (`get_video_info`)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        return {"video.height": stream.height, "video.width": stream.width,
                "video.codec": stream.codec_context.codec.canonical_name,
                "video.pix_fmt": stream.pix_fmt, "video.fps": int(stream.base_rate),
                "video.channels": 3, "has_audio": has_audio}


class SequentialFrameReader:
    """Decodes one video file front to back; `take(from_ts, n, fps)` returns the n frames of one
    episode (which must come after the previous one), checking every timestamp."""

    def __init__(self, path: Path, field: str, tolerance_s: float) -> None:
        import av

        self.path, self.field, self.tolerance_s = Path(path), field, tolerance_s
        try:
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
        except Exception as exc:
            raise ContractError(f"cannot open video: {exc}", file=str(self.path), field=field) from exc
        self._frames: Iterator = self._decode()
        self._pending: Optional[tuple[float, np.ndarray]] = None

    def _decode(self):
        for frame in self._container.decode(self._stream):
            if frame.pts is None:
                continue
            yield float(frame.pts * self._stream.time_base), frame.to_ndarray(format="rgb24")

    def take(self, from_ts: float, n: int, fps: int, episode: str) -> np.ndarray:
        out = []
        for k in range(n):
            want = from_ts + k / fps
            while True:
                if self._pending is None:
                    self._pending = next(self._frames, None)
                    if self._pending is None:
                        raise ContractError(f"video ends before frame {k} at {want:.4f} s", file=str(self.path),
                                            episode_id=episode, step=k, field=self.field,
                                            hint="the video is shorter than the episode's frames")
                ts, image = self._pending
                if ts < want - self.tolerance_s:  # a frame of no episode (or of a skipped one)
                    self._pending = None
                    continue
                if ts > want + self.tolerance_s:
                    raise ContractError(f"no frame at {want:.4f} s (next frame at {ts:.4f} s)",
                                        file=str(self.path), episode_id=episode, step=k, field=self.field,
                                        hint="video timestamps must match from_timestamp + timestamp")
                out.append(image)
                self._pending = None
                break
        return np.stack(out) if out else np.zeros((0, 0, 0, 3), np.uint8)

    def close(self) -> None:
        self._container.close()
