"""Encoding and decoding of step images (JPEG or PNG): the toolkit's one image codec.

Every reader decodes frames here: the loaders, the report and notebooks, relabeling in the mix.
JPEG frames are decoded by simplejpeg (libjpeg-turbo 3 bundled in its wheel, no TensorFlow):
measured fastest of PIL, simplejpeg and PyTurboJPEG on our 64-256 px frames, with output identical
to PIL's (benchmarks/bench_jpeg.py, BENCHMARKS.md). PNG frames (lossless datasets) and anything
that is not a JPEG go through PIL. Encoding uses PIL at JPEG quality 95, as TFDS's own
`tfds.features.Image(encoding_format="jpeg")` does through `tf.image.encode_jpeg`.
"""

from __future__ import annotations

import io
from typing import Optional

import numpy as np
import simplejpeg
from PIL import Image

from rldg_data.errors import ConfigError, ContractError

JPEG_QUALITY = 95
_JPEG_MAGIC = b"\xff\xd8"


def encode_image(frame: np.ndarray, encoding: str = "jpeg") -> bytes:
    """One uint8 HxWx3 frame -> JPEG or PNG bytes."""
    buf = io.BytesIO()
    img = Image.fromarray(np.ascontiguousarray(frame), mode="RGB")
    if encoding == "jpeg":
        img.save(buf, format="JPEG", quality=JPEG_QUALITY)
    elif encoding == "png":
        img.save(buf, format="PNG", compress_level=1)
    else:
        raise ConfigError(f"unknown image encoding {encoding!r} (use 'jpeg' or 'png')")
    return buf.getvalue()


def encode_images(frames: np.ndarray, encoding: str = "jpeg") -> list[bytes]:
    """A stack of uint8 frames [T, H, W, 3] -> list of T encoded images."""
    return [encode_image(frame, encoding) for frame in frames]


def decode_image(data: bytes, size: Optional[int] = None) -> np.ndarray:
    """JPEG or PNG bytes -> uint8 HxWx3 array (resized bilinearly to size x size when `size` is
    given and differs). Raises ContractError on bytes that are no image.

    A JPEG much larger than `size` is decoded at the smallest of libjpeg-turbo's DCT scales (1/2,
    1/4, 1/8) that keeps both sides >= `size`, then resized: a 256 px frame for a 64 px loader
    decodes ~3x faster (BENCHMARKS.md, "mixture"), its pixels within a mean 1.3 levels of a full
    decode and resize (both average the pixels they shrink; neither is Octo's un-antialiased
    `tf.image.resize`)."""
    try:
        if data[:2] == _JPEG_MAGIC:
            scaled = {"min_height": size, "min_width": size} if size is not None else {}
            frame = simplejpeg.decode_jpeg(data, colorspace="RGB", **scaled)
        else:
            with Image.open(io.BytesIO(data)) as img:
                frame = np.asarray(img.convert("RGB"))
    except Exception as exc:  # simplejpeg and PIL raise several types for broken data
        raise ContractError(f"cannot decode image ({len(data)} bytes): {exc}") from exc
    if size is not None:
        frame = resize_frame(frame, size)
    return frame


def resize_frame(frame: np.ndarray, size: int, *, center_crop: bool = False) -> np.ndarray:
    """One uint8 HxWx3 frame -> size x size, bilinear (PIL), the toolkit's one resize. With
    `center_crop` a non-square frame is first cropped to its centred square, so nothing is
    stretched. A frame already size x size comes back as it is (as uint8)."""
    frame = np.asarray(frame)
    if center_crop:
        h, w = frame.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        frame = frame[top:top + side, left:left + side]
    if frame.shape[:2] == (size, size):
        return frame.astype(np.uint8, copy=False)
    img = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8))
    return np.asarray(img.resize((size, size), Image.BILINEAR))


def resize_frames(frames: np.ndarray, size: int, *, center_crop: bool = False) -> np.ndarray:
    """A stack [T, H, W, 3] -> [T, size, size, 3] through `resize_frame`."""
    frames = np.asarray(frames)
    if frames.shape[1:3] == (size, size) and not (center_crop and frames.shape[1] != frames.shape[2]):
        return frames.astype(np.uint8, copy=False)
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for i, frame in enumerate(frames):
        out[i] = resize_frame(frame, size, center_crop=center_crop)
    return out


def decode_images(blobs, size: Optional[int] = None) -> np.ndarray:
    """A sequence of encoded images -> uint8 [T, H, W, 3] (resized to `size` when given); every
    frame must have the same shape."""
    frames = [decode_image(b, size) for b in blobs]
    if not frames:
        return np.zeros((0, size or 0, size or 0, 3), np.uint8)
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ContractError(f"frames of different shapes in one episode: {sorted(shapes)}")
    return np.stack(frames)
