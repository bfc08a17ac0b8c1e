"""Per-frame work of the loader: encoded frames of one episode -> uint8 [T, H, W, 3].

Frames keep their size with a compiled TensorFlow graph (C++ decode, no GIL): `_CALL` frames per
call, unrolled rather than a `tf.map_fn` loop, whose per-iteration cost was about a third of the
decode itself on 64x64 JPEGs; the unused tail of the last call is skipped by a `tf.cond`, so no
frame is decoded twice. Frames to be resized go through PIL (decode + bilinear resize), as before.
"""

from __future__ import annotations

import io
import threading
from typing import Optional

import numpy as np
from PIL import Image

_CALL = 64  # frames per graph call (one call for most episodes; longer ones take several)
_DECODER = None
_LOCK = threading.Lock()


def decode_frames(blobs: np.ndarray, size: Optional[int] = None) -> np.ndarray:
    """Encoded frames (JPEG/PNG bytes) -> uint8 [T, H, W, 3], resized (bilinear) to size x size
    when `size` is given and differs from theirs."""
    blobs = list(blobs)
    if not blobs:
        return np.zeros((0, size or 0, size or 0, 3), np.uint8)
    if size is None or _size_of(blobs[0]) == (size, size):
        return _tf_decode(blobs)
    frames = []
    for blob in blobs:
        with Image.open(io.BytesIO(blob)) as img:
            img = img.convert("RGB")
            if img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            frames.append(np.asarray(img))
    return np.stack(frames)


def _size_of(blob: bytes) -> tuple[int, int]:
    """(width, height) from the header alone."""
    with Image.open(io.BytesIO(blob)) as img:
        return img.size


def _tf_decode(blobs: list) -> np.ndarray:
    import tensorflow as tf

    decoder = _decoder()
    parts = []
    for start in range(0, len(blobs), _CALL):
        part = blobs[start:start + _CALL]
        count = len(part)
        part = part + [part[0]] * (_CALL - count)  # padding, never decoded
        parts.append(decoder(tf.constant(part, tf.string), tf.constant(count, tf.int32)).numpy())
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _decoder():
    """The concrete graph (traced once per process; calling it skips tf.function's dispatch)."""
    global _DECODER
    with _LOCK:
        if _DECODER is None:
            import tensorflow as tf

            def one(blob):
                return tf.io.decode_image(blob, channels=3, expand_animations=False)

            @tf.function(input_signature=[tf.TensorSpec([_CALL], tf.string), tf.TensorSpec([], tf.int32)])
            def decode(blobs, count):
                first = one(blobs[0])
                rest = [tf.cond(i < count, lambda i=i: one(blobs[i]), lambda: tf.zeros_like(first))
                        for i in range(1, _CALL)]
                return tf.stack([first] + rest)[:count]

            _DECODER = decode.get_concrete_function()
    return _DECODER
