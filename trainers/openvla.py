"""OpenVLA fine-tuning: runs OpenVLA's own `vla-scripts/finetune.py` on an export in the user's Python.

The export itself (a 7-D, 224x224 copy, registration, statistics, arguments, preflight script) is
`rldg_data.exports.openvla`; this module finds OpenVLA's script, runs the export's preflight check
in the user's Python (dataset registered and resolved by OpenVLA's registry, finetune.py's modules,
weights present or downloadable, a CUDA GPU), and only then launches torchrun. A failed check is
one UnavailableError line (the CLI prints it as one `error:` line), not torchrun's traceback.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Callable, Optional, Sequence

from rldg_data.errors import UnavailableError
from rldg_data.exports.openvla import TORCHRUN
from rldg_data.exports.openvla_preflight import PREFLIGHT, PROBLEM_PREFIX, REPORT_PREFIX
from trainers.external import external_script

SETUP_HELP = (
    "OpenVLA needs its own Python environment (it pins tensorflow 2.15 and torch 2.2): "
    "`git clone https://github.com/openvla/openvla && cd openvla && python -m venv .venv && "
    ".venv/bin/pip install -e .`, then pass --openvla-python openvla/.venv/bin/python")


def openvla_command(export: str | os.PathLike, openvla_python: str, openvla_repo: Optional[str] = None,
                    extra: Sequence[str] = ()) -> list[str]:
    """The command that runs OpenVLA's vla-scripts/finetune.py on an export (environment checked)."""
    python, script = external_script(openvla_python, "prismatic", SETUP_HELP, openvla_repo,
                                     "vla-scripts/finetune.py", "--openvla-repo", "openvla/openvla")
    export = Path(export).resolve()
    args = json.loads((export / "openvla_finetune_args.json").read_text())
    return [python, *TORCHRUN, str(export / "openvla_launch.py"), str(script), *args, *extra]


def preflight(command: Sequence[str], env: Optional[dict] = None, timeout: float = 600) -> tuple[dict, list[str]]:
    """Runs the export's openvla_preflight.py in OpenVLA's Python with finetune.py's arguments;
    returns its report (what OpenVLA resolves the dataset to, weights, GPU) and its problems (what
    would make finetune.py fail before training). UnavailableError if the check itself fails."""
    python, launcher = command[0], Path(command[len(TORCHRUN) + 1])
    script, args = command[len(TORCHRUN) + 2], command[len(TORCHRUN) + 3:]
    res = subprocess.run([python, str(launcher.parent / PREFLIGHT), script, *args], cwd=str(Path(script).parent.parent),
                         env=env, capture_output=True, text=True, timeout=timeout)
    lines = res.stdout.splitlines()
    report = next((json.loads(line[len(REPORT_PREFIX):]) for line in lines if line.startswith(REPORT_PREFIX)), None)
    problems = [line[len(PROBLEM_PREFIX):] for line in lines if line.startswith(PROBLEM_PREFIX)]
    if report is None or (res.returncode != 0 and not problems):
        last = (res.stderr.strip().splitlines() or ["no output"])[-1]
        raise UnavailableError(f"OpenVLA's preflight check ({launcher.parent / PREFLIGHT}) failed in {python} "
                               f"(exit {res.returncode}): {last}")
    return report, problems


def describe(report: dict) -> str:
    """One line: the dataset as OpenVLA's registry resolved it, the weights, the GPU."""
    dataset = report.get("dataset") or {}
    resolved = (dataset.get("kwargs") or [{}])[0]
    where = (f"OpenVLA resolves {resolved['name']} (mixture {dataset['mixture']}) to {resolved['data_dir']}, "
             f"primary camera {resolved['image_obs_keys'].get('primary')}, standardize_fn "
             f"{resolved['standardize_fn']}, splits {dataset.get('splits')}") if resolved else \
        "OpenVLA did not resolve the dataset"
    return f"{where}; weights of {report['vla_path']}: {report['weights']}; CUDA GPU: {report['cuda']}"


def launch_openvla(export: str | os.PathLike, openvla_python: str, openvla_repo: Optional[str] = None,
                   extra: Sequence[str] = (), echo: Callable[[str], None] = print) -> int:
    """Runs OpenVLA LoRA fine-tuning in the user's OpenVLA environment; returns its exit status.

    Says (`echo`) the command and what the preflight found; UnavailableError listing every problem
    on one line, before torchrun starts, when finetune.py would fail before training."""
    command = openvla_command(export, openvla_python, openvla_repo, extra)
    script = Path(command[len(TORCHRUN) + 2])
    env = dict(os.environ)
    if "--wandb_entity" not in extra:
        env.setdefault("WANDB_MODE", "offline")  # no entity of the user's: keep the log on disk
    echo(f"OpenVLA command (in {script.parent.parent}): {shlex.join(command)}")
    report, problems = preflight(command, env)
    echo(describe(report))
    if problems:
        listed = "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1)) if len(problems) > 1 else problems[0]
        raise UnavailableError(f"OpenVLA fine-tuning not started: {listed}")
    return subprocess.run(command, cwd=str(script.parent.parent), env=env).returncode
