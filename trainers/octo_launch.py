"""Octo fine-tuning: runs Octo's own `scripts/finetune.py` on an export in the user's Octo Python.

The export itself (dataset kwargs, statistics, standardize function, config) is
`rldg_data.exports.octo`; this module only finds Octo's script and launches it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.errors import UnavailableError
from trainers.external import external_script

SETUP_HELP = (
    "Octo needs its own Python environment (it pins tensorflow 2.15 and an older jax): "
    "`git clone https://github.com/octo-models/octo && cd octo && python -m venv .venv && "
    ".venv/bin/pip install -e . -r requirements.txt`, then pass --octo-python octo/.venv/bin/python")


RUNNER = Path(__file__).resolve().with_name("octo_finetune_runner.py")
WANDB_MODES = ("disabled", "offline", "online")


def octo_command(export: str | os.PathLike, octo_python: str, octo_repo: Optional[str] = None,
                 extra: Sequence[str] = (), metrics: Optional[str | os.PathLike] = None) -> list[str]:
    """The command that runs Octo's scripts/finetune.py on an export (the environment is checked).

    With `metrics`, finetune.py runs under `octo_finetune_runner.py`, which appends every
    `wandb.log` call (the training loss among them) to that JSON-lines file."""
    python, script = external_script(octo_python, "octo", SETUP_HELP, octo_repo, "scripts/finetune.py",
                                     "--octo-repo", "octo-models/octo")
    config = Path(export).resolve() / "octo_finetune_config.py"
    runner = [str(RUNNER), str(Path(metrics).resolve())] if metrics else []
    return [python, *runner, str(script), f"--config={config}", *extra]


def launch_octo(export: str | os.PathLike, octo_python: str, octo_repo: Optional[str] = None,
                extra: Sequence[str] = (), wandb_mode: Optional[str] = None,
                metrics: Optional[str | os.PathLike] = None, log: Optional[str | os.PathLike] = None) -> int:
    """Runs Octo fine-tuning in the user's Octo environment; returns its exit status.

    wandb_mode: WANDB_MODE for the run (default: the caller's WANDB_MODE, else "disabled": no
    network is assumed). metrics: JSON-lines file of what finetune.py logs (see octo_command).
    log: file receiving the run's stdout and stderr (default: this process's)."""
    command = octo_command(export, octo_python, octo_repo, extra, metrics=metrics)
    mode = wandb_mode or os.environ.get("WANDB_MODE") or "disabled"
    if mode not in WANDB_MODES:
        raise UnavailableError(f"wandb mode {mode!r}: use one of {', '.join(WANDB_MODES)}")
    env = dict(os.environ, WANDB_MODE=mode, PYTHONPATH=os.pathsep.join(
        [str(Path(export).resolve()), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    script = Path(command[3] if metrics else command[1])
    if log is None:
        return subprocess.run(command, env=env, cwd=str(script.parent.parent)).returncode
    with open(log, "w") as out:
        return subprocess.run(command, env=env, cwd=str(script.parent.parent), stdout=out,
                              stderr=subprocess.STDOUT).returncode


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """The JSON lines octo_finetune_runner.py wrote (one per wandb.log call), in order."""
    import json

    lines = Path(path).read_text().splitlines() if Path(path).is_file() else []
    return [json.loads(line) for line in lines if line.strip()]


def checkpoints(export: str | os.PathLike) -> list[Path]:
    """Checkpoint folders finetune.py saved under the export's runs/ (save_dir/project/run/STEP),
    oldest run first: each run folder holds config.json and one folder per saved step."""
    runs = Path(export) / "runs"
    return sorted((p.parent for p in runs.glob("*/*/config.json")), key=lambda p: p.stat().st_mtime)
