"""Benchmark: `rldg export lerobot` (streaming PyAV encode) vs LeRobot's own path (PNGs, then encode).

1. Throughput (frames/s) of exporting the same contract dataset (128x128 JPEG frames, as the demo's
   mix; or --dataset PATH) to LeRobot v3.0 with h264, both in this process, repeated --repeats times:
   - ours: frames go straight from the decoded episode into one open encoder per camera and file;
   - LeRobot's path (`DatasetWriter.add_frame` / `save_episode`): every frame written as a PNG
     (compress level 1), the episode's PNGs read back and encoded to a temporary MP4, which is then
     concatenated onto the camera's file by a remux (`concatenate_video_files`), PNGs deleted.
   Everything else (parquet, stats, metadata) is the same code in both, so the ratio is the video path's.
2. Peak RSS of our export at N and 10N frames (each in a fresh child process, RSS sampled).

    .venv/bin/python benchmarks/bench_lerobot.py [--episodes 20] [--length 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

SIZE = 128
FPS = 80


def synthetic_episodes(n: int, length: int, seed: int = 0):
    """Smooth frames with a moving block, like rendered sim frames; 4-d state and action."""
    from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps

    rng = np.random.default_rng(seed)
    base = np.add.outer(np.arange(SIZE), np.arange(SIZE)).astype(np.float32)
    for i in range(n):
        frames = np.empty((length, SIZE, SIZE, 3), np.uint8)
        for t in range(length):
            frame = np.stack([(base + 3 * t + 40 * c + i) % 256 for c in range(3)], -1)
            y, x = (2 * t + i) % (SIZE - 16), (3 * t) % (SIZE - 16)
            frame[y:y + 16, x:x + 16] = (250, 40, 40)
            frames[t] = frame
        actions = rng.uniform(-1, 1, (length, 4)).astype(np.float32)
        steps = make_steps(images=frames, states=rng.normal(size=(length, 4)).astype(np.float32), actions=actions,
                           language_instruction="insert the peg", source=("rl", "human")[i % 2])
        yield Episode(steps, EpisodeMetadata(f"ep-{i}", "insertion", "vga", "seen", "p", bool(i % 3), 0.0,
                                             length, i))


def write_source(folder: Path, n: int, length: int) -> Path:
    from rldg_data.io.writer import write_dataset

    return write_dataset(synthetic_episodes(n, length), folder, "source", max_shard_bytes=8 << 20)


def png_then_encode_export(source: Path, out: Path, config) -> None:
    """Our exporter with its video path replaced by LeRobot's (PNG files, encode, concatenate)."""
    import av
    from PIL import Image

    from rldg_data.exports import lerobot as ex
    from rldg_data.io import lerobot_layout as layout
    from rldg_data.io.video import _codec_options, encoder_options

    class PngThenEncode(ex._LeRobotWriter):
        def _write_video(self, key, frames):
            files = self._videos[key]
            img_dir = self.root / "images" / key / f"episode-{self.episodes:06d}"
            img_dir.mkdir(parents=True, exist_ok=True)
            for k, frame in enumerate(frames):  # add_frame: one PNG per frame, compress level 1
                Image.fromarray(frame).save(img_dir / f"frame-{k:06d}.png", compress_level=1)
            temp = img_dir.parent / f"{key}_{self.episodes:03d}.mp4"
            with av.open(str(temp), "w") as container:  # encode_video_frames
                stream = container.add_stream(config.vcodec, self.fps,
                                              options=_codec_options(config.vcodec, encoder_options(config.vcodec)))
                stream.pix_fmt, stream.width, stream.height = "yuv420p", frames.shape[2], frames.shape[1]
                for k in range(len(frames)):
                    with Image.open(img_dir / f"frame-{k:06d}.png") as img:
                        for packet in stream.encode(av.VideoFrame.from_image(img.convert("RGB"))):
                            container.mux(packet)
                for packet in stream.encode():
                    container.mux(packet)
            shutil.rmtree(img_dir)
            final = self.root / layout.VIDEO_PATH.format(video_key=key, chunk_index=0, file_index=0)
            final.parent.mkdir(parents=True, exist_ok=True)
            start = getattr(self, "_video_frames", {}).get(key, 0)
            if not final.exists():
                shutil.move(temp, final)
                files.count = 1
            else:  # concatenate_video_files: concat demuxer, remux into a new file, replace
                listing = temp.with_suffix(".ffconcat")
                listing.write_text(f"ffconcat version 1.0\nfile '{final}'\nfile '{temp}'\n")
                merged = temp.with_name("merged.mp4")
                with av.open(str(listing), "r", format="concat", options={"safe": "0"}) as src, \
                        av.open(str(merged), "w", options={"movflags": "faststart"}) as dst:
                    out_stream = dst.add_stream_from_template(template=src.streams.video[0], opaque=True)
                    out_stream.time_base = src.streams.video[0].time_base
                    for packet in src.demux(src.streams.video[0]):
                        if packet.dts is None:
                            continue
                        packet.stream = out_stream
                        dst.mux(packet)
                shutil.move(merged, final)
                temp.unlink()
                listing.unlink()
            self._video_frames = {**getattr(self, "_video_frames", {}), key: start + len(frames)}
            return {f"videos/{key}/chunk_index": 0, f"videos/{key}/file_index": 0,
                    f"videos/{key}/from_timestamp": start / self.fps,
                    f"videos/{key}/to_timestamp": (start + len(frames)) / self.fps}

        def finish(self, splits):
            self._video_writers = {}
            result = super().finish(splits)
            shutil.rmtree(self.root / "images", ignore_errors=True)
            return result

    original = ex._LeRobotWriter
    ex._LeRobotWriter = PngThenEncode
    try:
        ex.export_lerobot(source, out, config)
    finally:
        ex._LeRobotWriter = original


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system, every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def interval(rates: list[float]) -> str:
    """mean and 95% t-interval of the per-run rates."""
    from t_interval import mean_ci

    mean, half = mean_ci(rates)
    if len(rates) < 2:
        return f"{mean:,.0f} (n=1)"
    return f"{mean:,.0f} [{mean - half:,.0f}, {mean + half:,.0f}] (n={len(rates)})"


def rss_child(source: str, out: str) -> None:
    """In a fresh process: peak RSS of exporting `source` (sampled: ru_maxrss survives execve)."""
    from peak_rss import PeakRSS
    from rldg_data.exports.lerobot import ExportConfig, export_lerobot

    import rldg_data.io.reader  # noqa: F401  (imports before the baseline)
    import tensorflow  # noqa: F401

    with PeakRSS() as rss:
        summary = export_lerobot(source, out, ExportConfig(fps=FPS))
    print(json.dumps({"frames": summary.frames, "seconds": summary.seconds, "rss_before_mib": rss.before_mib,
                      "peak_rss_mib": rss.peak_mib}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dataset", help="export this contract dataset instead of a synthetic one")
    ap.add_argument("--rss-scale", type=int, default=10,
                    help="the larger RSS run has this many times the frames (0: skip the RSS runs)")
    ap.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    from rldg_data.exports.lerobot import ExportConfig, export_lerobot
    from rldg_data.io.reader import open_dataset

    config = ExportConfig(fps=FPS, vcodec="h264")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (shared machine)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = Path(args.dataset) if args.dataset else write_source(tmp / "src", args.episodes, args.length)
        files = open_dataset(source)
        import datasets  # noqa: F401  (LeRobot's path imports it; keep the import out of the timing)

        ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
        for r in range(args.repeats):
            t, c = time.perf_counter(), cpu_seconds()
            summary = export_lerobot(source, tmp / f"ours{r}", config)
            ours.append(summary.frames / (time.perf_counter() - t))
            ours_cpu.append(summary.frames / (cpu_seconds() - c))
            t, c = time.perf_counter(), cpu_seconds()
            png_then_encode_export(source, tmp / f"png{r}", config)
            theirs.append(summary.frames / (time.perf_counter() - t))
            theirs_cpu.append(summary.frames / (cpu_seconds() - c))
            shutil.rmtree(tmp / f"ours{r}")
            shutil.rmtree(tmp / f"png{r}")
        frames = summary.frames
        print(f"export to LeRobot v3.0, h264, {files.num_episodes} episodes, {frames} frames of "
              f"{files.spec.image_size}x{files.spec.image_size} (frames/s, mean [95% CI]):")
        print(f"  rldg export lerobot (streaming PyAV): {interval(ours)}")
        print(f"  LeRobot's path (PNGs, encode, concat): {interval(theirs)}")
        ratios = [a / b for a, b in zip(ours, theirs)]
        print(f"  ratio ours / LeRobot's path:           {statistics.fmean(ratios):.2f}x "
              f"(per run: {', '.join(f'{x:.2f}' for x in ratios)})")
        print("frames per CPU-second (user + system, all threads; what one idle core would do):")
        print(f"  rldg export lerobot:                   {interval(ours_cpu)}")
        print(f"  LeRobot's path:                        {interval(theirs_cpu)}")
        if args.dataset or not args.rss_scale:
            return
        results = []
        for scale in (1, args.rss_scale):
            src = write_source(tmp / f"rss{scale}", args.episodes * scale, args.length)
            out = subprocess.run([sys.executable, __file__, "--rss-child", str(src), str(tmp / f"rss_out{scale}")],
                                 check=True, capture_output=True, text=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
            res = results[-1]
            print(f"export of {res['frames']} frames: {res['seconds']:.1f} s "
                  f"({res['frames'] / res['seconds']:,.0f} frames/s), peak RSS {res['peak_rss_mib']:.0f} MiB "
                  f"(after imports: {res['rss_before_mib']:.0f} MiB)")
            shutil.rmtree(tmp / f"rss{scale}")
            shutil.rmtree(tmp / f"rss_out{scale}")
        print(f"peak RSS ratio {args.rss_scale}x frames / 1x: {results[1]['peak_rss_mib'] / results[0]['peak_rss_mib']:.3f}")


if __name__ == "__main__":
    main()
