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
from trainers.external import check_external_python, external_repo

SETUP_HELP = (
    "Octo needs its own Python environment (it pins tensorflow 2.15 and an older jax): "
    "`git clone https://github.com/octo-models/octo && cd octo && python -m venv .venv && "
    ".venv/bin/pip install -e . -r requirements.txt`, then pass --octo-python octo/.venv/bin/python")


def octo_command(export: str | os.PathLike, octo_python: str, octo_repo: Optional[str] = None,
                 extra: Sequence[str] = ()) -> list[str]:
    """The command that runs Octo's scripts/finetune.py on an export (the environment is checked)."""
    python = check_external_python(octo_python, "octo", SETUP_HELP)
    if octo_repo is None:
        octo_repo = external_repo(python, "octo")
    script = Path(octo_repo) / "scripts" / "finetune.py"
    if not script.is_file():
        raise UnavailableError(f"Octo's fine-tuning script is not at {script}: pass --octo-repo with "
                               "the folder of a git clone of octo-models/octo")
    config = Path(export).resolve() / "octo_finetune_config.py"
    return [python, str(script), f"--config={config}", *extra]


def launch_octo(export: str | os.PathLike, octo_python: str, octo_repo: Optional[str] = None,
                extra: Sequence[str] = ()) -> int:
    """Runs Octo fine-tuning in the user's Octo environment; returns its exit status."""
    command = octo_command(export, octo_python, octo_repo, extra)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(export).resolve()), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return subprocess.run(command, env=env, cwd=str(Path(command[1]).parent.parent)).returncode
