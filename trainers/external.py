"""Another tool's own Python environment: checked before anything runs in it.

Octo and OpenVLA pin tensorflow 2.15 and their own jax / torch, so their training runs in the user's
environment for them (`--octo-python`, `--openvla-python`), never in ours.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from rldg_data.errors import UnavailableError


def check_external_python(python: Optional[str], module: str, setup_help: str) -> str:
    """The interpreter path if it runs and imports `module`; UnavailableError saying how otherwise."""
    if not python:
        raise UnavailableError(f"no {module} environment given. {setup_help}")
    path = shutil.which(python) or python
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise UnavailableError(f"{python} is not an executable Python. {setup_help}")
    probe = subprocess.run([path, "-c", f"import {module}, os; print(os.path.dirname({module}.__file__))"],
                           capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        raise UnavailableError(f"{python} cannot import {module} ({last}). {setup_help}")
    return path


def external_repo(python: str, module: str) -> str:
    """The folder above `module`'s package in the user's environment (a source checkout's root)."""
    probe = subprocess.run([python, "-c", f"import {module}, os; print(os.path.dirname(os.path.dirname({module}.__file__)))"],
                           capture_output=True, text=True, timeout=300)
    return probe.stdout.strip()


def external_script(python: Optional[str], module: str, setup_help: str, repo: Optional[str],
                    script: str, repo_option: str, clone: str) -> tuple[str, Path]:
    """(checked interpreter, path of `script` in the project's source checkout): the checkout is
    `repo`, else the folder above `module`'s package; UnavailableError naming `repo_option` when the
    script is not there."""
    python = check_external_python(python, module, setup_help)
    path = Path(repo if repo is not None else external_repo(python, module)) / script
    if not path.is_file():
        raise UnavailableError(f"the fine-tuning script of {clone} is not at {path}: pass {repo_option} with the "
                               f"folder of a git clone of {clone}")
    return python, path
