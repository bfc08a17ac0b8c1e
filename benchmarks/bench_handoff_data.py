"""What cleaning does to assembly hand-off data, against the human proxy's whole-task data: steps
per segment (who acted) and per stage, before and after `trim_pauses`, over successful episodes.

Records with the toolkit's own command (`rldg collect`, the demo's settings: 64x64 images, the
committed assembly specialist from the bottleneck stage on) unless --logs gives existing folders:

    MUJOCO_GL=egl .venv/bin/python benchmarks/bench_handoff_data.py [--episodes 16] [--out runs/bench_handoff]

Prints medians with min and max and the number of episodes (counts of steps, not rates).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPECIALIST = REPO / "trainers" / "demo" / "specialists" / "assembly-round_nut"


def collect(out: Path, episodes: int) -> dict[str, Path]:
    """Human-proxy whole-task demos and human-first hand-offs, as the demo records them."""
    folders = {"human": out / "human", "handoff": out / "handoff"}
    runs = {"human": ["--policy", "human", "--seed", "20000"],
            "handoff": ["--policy", str(SPECIALIST), "--handoff", "human-first", "--seed", "30000"]}
    for kind, args in runs.items():
        subprocess.run([sys.executable, "-m", "rldg_data.cli", "collect", "--task", "assembly", "--variant",
                        "round_nut", "--episodes", str(episodes), "--out", str(folders[kind]), "--workers", "1",
                        "--image-size", "64", *args], check=True, cwd=REPO)
    return folders


def summarize(folder: Path) -> dict:
    import numpy as np

    from collectors.logs import iter_log_episodes
    from rldg_data.contract import spec
    from rldg_data.transforms.pauses import trim_pauses
    from rldg_data.transforms.segments import removed_per_source, steps_per_source

    episodes = list(iter_log_episodes([folder]))
    wins = [e for e in episodes if e.metadata.success]
    rows = []
    for e in wins:
        cleaned = trim_pauses(e)
        stage = np.asarray(e.steps[spec.STAGE])
        cstage = np.asarray(cleaned.steps[spec.STAGE])
        rows.append({"length": len(e), "cleaned": len(cleaned), "segments": steps_per_source(e),
                     "removed": removed_per_source(e, cleaned),
                     "stage_steps": [int((stage == k).sum()) for k in range(3)],
                     "cleaned_stage_steps": [int((cstage == k).sum()) for k in range(3)]})

    def med(values):
        values = list(values)
        return {"median": float(np.median(values)), "min": int(min(values)), "max": int(max(values))} if values else None

    sources = sorted({s for r in rows for s in r["segments"]})
    return {"episodes": len(episodes), "successes": len(wins),
            "length": med(r["length"] for r in rows), "length_cleaned": med(r["cleaned"] for r in rows),
            "segment_steps": {s: med(r["segments"].get(s, 0) for r in rows) for s in sources},
            "removed": {s: sum(r["removed"].get(s, 0) for r in rows) for s in sources},
            "stage_steps": [med(r["stage_steps"][k] for r in rows) for k in range(3)],
            "cleaned_stage_steps": [med(r["cleaned_stage_steps"][k] for r in rows) for k in range(3)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--out", default="runs/bench_handoff")
    parser.add_argument("--logs", nargs=2, metavar=("HUMAN", "HANDOFF"), help="existing log folders")
    args = parser.parse_args()
    os.environ.setdefault("MUJOCO_GL", "egl")
    folders = ({"human": Path(args.logs[0]), "handoff": Path(args.logs[1])} if args.logs
               else collect(Path(args.out), args.episodes))
    result = {kind: summarize(folder) for kind, folder in folders.items()}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
