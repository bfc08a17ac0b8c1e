"""OpenVLA fine-tuning: runs OpenVLA's own `vla-scripts/finetune.py` on an export in the user's Python.

The export itself (a 7-D, 224x224 copy, registration, statistics, arguments) is
`rldg_data.exports.openvla`; this module only finds OpenVLA's script and launches it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.errors import UnavailableError
from rldg_data.exports.openvla import TORCHRUN
from trainers.external import check_external_python, external_repo

SETUP_HELP = (
    "OpenVLA needs its own Python environment (it pins tensorflow 2.15 and torch 2.2): "
    "`git clone https://github.com/openvla/openvla && cd openvla && python -m venv .venv && "
    ".venv/bin/pip install -e .`, then pass --openvla-python openvla/.venv/bin/python")


def openvla_command(export: str | os.PathLike, openvla_python: str, openvla_repo: Optional[str] = None,
                    extra: Sequence[str] = ()) -> list[str]:
    """The command that runs OpenVLA's vla-scripts/finetune.py on an export (environment checked)."""
    python = check_external_python(openvla_python, "prismatic", SETUP_HELP)
    if openvla_repo is None:
        openvla_repo = external_repo(python, "prismatic")
    script = Path(openvla_repo) / "vla-scripts" / "finetune.py"
    if not script.is_file():
        raise UnavailableError(f"OpenVLA's fine-tuning script is not at {script}: pass --openvla-repo "
                               "with the folder of a git clone of openvla/openvla")
    export = Path(export).resolve()
    args = json.loads((export / "openvla_finetune_args.json").read_text())
    return [python, *TORCHRUN, str(export / "openvla_launch.py"), str(script), *args, *extra]


def launch_openvla(export: str | os.PathLike, openvla_python: str, openvla_repo: Optional[str] = None,
                   extra: Sequence[str] = ()) -> int:
    """Runs OpenVLA LoRA fine-tuning in the user's OpenVLA environment; returns its exit status."""
    command = openvla_command(export, openvla_python, openvla_repo, extra)
    script = Path(command[len(TORCHRUN) + 2])
    env = dict(os.environ)
    if "--wandb_entity" not in extra:
        env.setdefault("WANDB_MODE", "offline")  # no entity of the user's: keep the log on disk
    return subprocess.run(command, cwd=str(script.parent.parent), env=env).returncode
