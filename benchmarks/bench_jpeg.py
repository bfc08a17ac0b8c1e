"""JPEG decoders on the toolkit's frames: PIL, simplejpeg and PyTurboJPEG (when it can load a
libturbojpeg), frames/s at 64, 128 and 256 px (quality 95, as the writer encodes), rounds
interleaved, mean with a 95% t-interval; each decoder's output is compared with PIL's.
Peak RSS of this process is printed last. rldg_data.io.images uses the fastest that installs
from its wheel alone.

    .venv/bin/python benchmarks/bench_jpeg.py [--frames 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import resource
import time

import numpy as np
from PIL import Image
from t_interval import mean_ci



def frame(size: int, rng) -> np.ndarray:
    """A smooth scene plus sensor noise (compresses like a rendered frame, unlike pure noise)."""
    y, x = np.mgrid[0:size, 0:size]
    img = np.stack([x * 255 // size, y * 255 // size, (x + y) * 127 // size], -1)
    return np.clip(img + rng.integers(-12, 12, img.shape), 0, 255).astype(np.uint8)


def decoders() -> dict:
    import simplejpeg

    def pil(blob):
        with Image.open(io.BytesIO(blob)) as img:
            return np.asarray(img.convert("RGB"))

    found = {"PIL": pil, "simplejpeg": lambda b: simplejpeg.decode_jpeg(b, colorspace="RGB")}
    try:
        from turbojpeg import TJPF_RGB, TurboJPEG

        tj = TurboJPEG()
        found["PyTurboJPEG"] = lambda b: tj.decode(b, pixel_format=TJPF_RGB)
    except Exception as exc:  # not installed, or no usable libturbojpeg on this system
        print(f"PyTurboJPEG unavailable: {str(exc).splitlines()[0]}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    fns = decoders()
    for size in (64, 128, 256):
        blobs = []
        for _ in range(args.frames):
            buf = io.BytesIO()
            Image.fromarray(frame(size, rng)).save(buf, format="JPEG", quality=95)
            blobs.append(buf.getvalue())
        reference = [fns["PIL"](b) for b in blobs[:20]]
        rates = {name: [] for name in fns}
        for _ in range(args.rounds):
            for name, fn in fns.items():
                start = time.perf_counter()
                for b in blobs:
                    fn(b)
                rates[name].append(len(blobs) / (time.perf_counter() - start))
        base = np.mean(rates["PIL"])
        print(f"{size}x{size}, {args.frames} frames, n={args.rounds} rounds:")
        for name, values in rates.items():
            mean, ci = mean_ci(values)
            same = all(np.array_equal(fns[name](b), r) for b, r in zip(blobs, reference))
            print(f"  {name:12s} {mean:8.0f} ± {ci:6.0f} frames/s  x{mean / base:.2f} of PIL  "
                  f"identical to PIL: {same}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
