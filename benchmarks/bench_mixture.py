"""An Open X-Embodiment-shaped mixture: rldg_data.loaders.RLDSLoader over many datasets vs Octo's
own `octo.data.dataset.make_interleaved_dataset` (octo-models/octo 241fb35, in .venv-interop).

24 synthetic contract datasets (tiny to large: 4-48 episodes of 20-120 steps; primary frames of
64, 128 or 256 px, a wrist camera in two datasets of three (the contract has at most two
cameras), 4-, 6- or 7-D actions and 4-8-D states; all frames resized to 64 px by each loader;
OXE-like sampling weights), the first 6, 12 and 24 of them mixed. Different sizes are padded as
Octo does: Octo with `max_action_dim` / `max_proprio_dim` and a None wrist key (a masked padding
image), ours with `LoaderConfig.pad_to_largest`. Octo reads each dataset's `rldg finetune octo`
export (per-dataset statistics, the standardize function) and is iterated as its finetune.py
does; ours gets the same weights and `per_dataset_normalization`, as Octo normalizes each dataset
with its own statistics. Same window (2), chunk (4), batch (64), shuffle buffer (2048 windows /
frames) and image size on both sides. Each side runs in a fresh process, alternately, `--rounds`
times per mixture size: frames/s over `--batches` batches after the first, CPU per frame, and peak
RSS (psutil, sampled after every batch); means carry 95% t-intervals over the rounds.

    .venv/bin/python benchmarks/bench_mixture.py [--sizes 6 12 24] [--rounds 5] [--batches 40]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THIS = os.path.abspath(__file__)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_octo_loader import BATCH, BUFFER, CHUNK, SIZE, WINDOW, _measure, _run_side  # noqa: E402

# (episodes, steps, primary image size) of the 24 datasets, and their sampling weights: a few
# large datasets carry most of the weight, as in Octo's "magic soup".
SHAPES = [(4 + (7 * i) % 45, 20 + (37 * i) % 101, (64, 128, 256)[i % 3]) for i in range(24)]
# (action size, state size, wrist camera) of each dataset: heterogeneous as OXE's robots
DIMS = [((7, 4, 6)[i % 3 if i % 4 else 0], (8, 4, 6, 5)[i % 4], i % 3 != 2) for i in range(24)]
WEIGHTS = [round(1.0 / (1 + i % 8), 3) for i in range(24)]


def side_ours(config_path: str, batches: int) -> dict:
    sys.path.insert(0, REPO)
    from rldg_data.loaders import LoaderConfig, RLDSLoader

    mix = json.loads(open(config_path).read())
    loader = RLDSLoader(mix["paths"], LoaderConfig(
        batch_size=BATCH, window=WINDOW, chunk=CHUNK, image_size=SIZE, wrist=True, shuffle=True,
        window_buffer=BUFFER, num_workers=2, per_dataset_normalization=True, pad_to_largest=True),
        weights=mix["weights"])
    return _measure(iter(loader), batches)


def side_octo(config_path: str, batches: int) -> dict:
    """Runs in .venv-interop: Octo's make_interleaved_dataset over the exports, as finetune.py does."""
    mix = json.loads(open(config_path).read())
    sys.path.insert(0, mix["exports"][0])  # every export carries the same standardize module
    from octo.data.dataset import make_interleaved_dataset

    kwargs_list = []
    for export in mix["exports"]:
        with open(os.path.join(export, "octo_dataset_kwargs.json")) as f:
            kwargs = json.load(f)
        # make_interleaved_dataset passes these itself (threads from traj_*_threads, statistics it
        # computes per dataset); the export's kwargs are make_single_dataset's and name them.
        for key in ("num_parallel_reads", "num_parallel_calls", "dataset_statistics"):
            kwargs.pop(key, None)
        kwargs_list.append(kwargs)
    dataset = make_interleaved_dataset(
        kwargs_list, mix["weights"], train=True, shuffle_buffer_size=BUFFER, batch_size=BATCH,
        traj_transform_kwargs=dict(window_size=WINDOW, action_horizon=CHUNK,
                                   max_action_dim=mix["max_action_dim"], max_proprio_dim=mix["max_state_dim"]),
        frame_transform_kwargs=dict(resize_size={"primary": (SIZE, SIZE), "wrist": (SIZE, SIZE)}))
    return _measure(dataset.iterator(), batches)


def make_datasets(root: str, count: int) -> tuple[list[str], list[str]]:
    """The contract datasets and their Octo exports (what `rldg finetune octo` writes for each)."""
    sys.path.insert(0, REPO)
    from rldg_data.contract.spec import DatasetSpec
    from rldg_data.exports.octo import export_octo
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    paths, exports = [], []
    for i, ((episodes, steps, size), (adim, sdim, wrist)) in enumerate(zip(SHAPES[:count], DIMS)):
        eps = (make_episode(f"d{i}-{j}", length=steps, image_size=size, seed=1000 * i + j, wrist=wrist,
                            action_dim=adim, state_dim=sdim) for j in range(episodes))
        path = write_dataset(eps, os.path.join(root, "data"), f"oxe_like_{i:02d}",
                             DatasetSpec(image_size=size, wrist=wrist, state_dim=sdim, action_dim=adim))
        paths.append(str(path))
        exports.append(str(export_octo(path, os.path.join(root, "exports", f"oxe_like_{i:02d}"))))
    return paths, exports


def _ci(values: list[float], digits: int = 0) -> str:
    from t_interval import mean_ci

    mean, half = mean_ci(values)
    return f"{mean:.{digits}f}" + (f" ± {half:.{digits}f}" if len(values) > 1 else "") + f" (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 12, 24])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--side", choices=("ours", "octo"), help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run = side_ours if args.side == "ours" else side_octo
        print(json.dumps(run(args.target, args.batches)))
        return
    sys.path.insert(0, REPO)
    from tests.interop import side_env

    ready, reason = side_env.status()
    if not ready:
        raise SystemExit(f"Octo's side needs .venv-interop: {reason} (run `make interop-env`)")
    print(f"window {WINDOW}, chunk {CHUNK}, batch {BATCH}, shuffle buffer {BUFFER}, frames resized to "
          f"{SIZE}x{SIZE} (primary + wrist, padded where missing); {args.batches} batches after the first; {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as root:
        paths, exports = make_datasets(root, max(args.sizes))
        for count in args.sizes:
            config = os.path.join(root, f"mix{count}.json")
            with open(config, "w") as f:
                json.dump({"paths": paths[:count], "exports": exports[:count], "weights": WEIGHTS[:count],
                           "max_action_dim": max(d[0] for d in DIMS[:count]),
                           "max_state_dim": max(d[1] for d in DIMS[:count])}, f)
            runs: dict[str, list[dict]] = {"ours": [], "octo": []}
            for _ in range(args.rounds):  # interleaved, so both see the same machine load
                runs["octo"].append(_run_side(str(side_env.python_path()), "octo", config, args.batches, THIS))
                runs["ours"].append(_run_side(sys.executable, "ours", config, args.batches, THIS))
            ratios = [o["frames_s"] / r["frames_s"] for o, r in zip(runs["ours"], runs["octo"])]
            rss = {s: max(r["rss_mib"] for r in runs[s]) for s in runs}
            print(f"{count:2d} datasets: ours {_ci([r['frames_s'] for r in runs['ours']])} frames/s, "
                  f"Octo {_ci([r['frames_s'] for r in runs['octo']])} frames/s, ratio {_ci(ratios, 2)}x "
                  f"[min {min(ratios):.2f}, max {max(ratios):.2f}]; peak RSS ours {rss['ours']:.0f} MiB, "
                  f"Octo {rss['octo']:.0f} MiB ({rss['ours'] / rss['octo']:.2f}x); CPU us/frame ours "
                  f"{sum(r['cpu_us'] for r in runs['ours']) / args.rounds:.0f}, Octo "
                  f"{sum(r['cpu_us'] for r in runs['octo']) / args.rounds:.0f}", flush=True)
            e2e = [o["end_to_end_frames_s"] / r["end_to_end_frames_s"] for o, r in zip(runs["ours"], runs["octo"])]
            print(f"    end to end (process start to last batch): ours "
                  f"{_ci([r['end_to_end_frames_s'] for r in runs['ours']])} frames/s, Octo "
                  f"{_ci([r['end_to_end_frames_s'] for r in runs['octo']])} frames/s, ratio {_ci(e2e, 2)}x; "
                  f"first batch after ours {_ci([r['first_batch_s'] for r in runs['ours']], 1)} s, Octo "
                  f"{_ci([r['first_batch_s'] for r in runs['octo']], 1)} s", flush=True)


if __name__ == "__main__":
    main()
