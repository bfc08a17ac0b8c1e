"""The side environment `.venv-interop`: the consumers' own pins and source, created once and cached.

Octo, dlimp and OpenVLA pin TensorFlow 2.15 / tensorflow_datasets 4.9.2 / numpy 1.24.3, which
cannot share the project's .venv (TF 2.21, numpy 2). This module creates `.venv-interop` at the
repository root with `constraints-interop.txt`, and unpacks the source archives of
`../shared/interop` (or $RLDG_INTEROP_SRC) into `.venv-interop/src/` with a `.pth` file putting
octo/ and dlimp/ on its sys.path (openvla/ is imported by tests/interop/openvla_check.py and
openvla_batches.py through openvla_stubs.py, which stand in for the package `__init__` files that
import OpenVLA's model stack). It holds Octo's JAX training stack and OpenVLA's data-path
dependencies (torch 2.13 CPU, transformers). Nothing of theirs enters the repository.

    python tests/interop/side_env.py            # make interop-env: create or reuse; says why not
    python tests/interop/side_env.py --required # exit 1 when it cannot be created (CI)

The environment is built in a temporary folder and renamed into place, so a killed build leaves
none half made; a stamp records the fingerprint of its inputs (constraints file, requirements, archives) and
the creation time, and a change of either rebuilds it. Only the standard library is used here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]
ENV_DIR = REPO / ".venv-interop"
STAMP = ENV_DIR / ".ready.json"
FAILURE = REPO / ".venv-interop.failed"  # why the last attempt failed (read by the tests' skips)
CONSTRAINTS = REPO / "constraints-interop.txt"
ARCHIVES = {"octo": "octo-241fb35.tar.gz", "dlimp": "dlimp-ad72ce3.tar.gz",
            "openvla": "openvla-c8f03f4.tar.gz"}
REQUIREMENTS = ["tensorflow-cpu", "tensorflow_datasets", "numpy", "protobuf", "huggingface_hub", "tqdm",
                "absl-py", "rich", "ml_collections", "psutil",
                # Octo's training stack: what scripts/finetune.py and OctoModel import (issue 31)
                "jax", "jaxlib", "flax", "distrax", "optax", "chex", "tensorflow_probability",
                "orbax-checkpoint", "einops", "scipy", "wandb", "gym", "matplotlib", "plotly",
                # OpenVLA's training-side data path: prismatic.vla.datasets, action_tokenizer, data_utils
                "torch", "transformers"]
PIP = "pip==24.3.1"
SRC_ENV = "RLDG_INTEROP_SRC"


def required() -> bool:
    """True in CI (`CI` set, as CI runs do) or with RLDG_INTEROP_REQUIRED=1: no skipping then."""
    flag = lambda name: os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")  # noqa: E731
    return flag("CI") or flag("RLDG_INTEROP_REQUIRED")


def archives_dir() -> Optional[Path]:
    """The folder with the consumers' archives: $RLDG_INTEROP_SRC, else `../shared/interop` beside
    the repository (for a git worktree, also beside the main checkout); None if they are not there."""
    if os.environ.get(SRC_ENV):
        candidates = [Path(os.environ[SRC_ENV]).resolve()]
    else:
        candidates = [REPO.parent / "shared" / "interop"]
        try:
            common = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--git-common-dir"],
                                    capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            common = ""
        if common:
            candidates.append((REPO / common).resolve().parent.parent / "shared" / "interop")
    for folder in candidates:
        if all((folder / a).is_file() for a in ARCHIVES.values()):
            return folder
    return None


def python_path() -> Path:
    return ENV_DIR / "bin" / "python"


def src_dir(env: Path = ENV_DIR) -> Path:
    return env / "src"


def fingerprint(archives: Path) -> str:
    digest = hashlib.sha256(CONSTRAINTS.read_bytes())
    digest.update(" ".join(REQUIREMENTS).encode())
    for name in sorted(ARCHIVES.values()):
        digest.update(name.encode() + hashlib.sha256((archives / name).read_bytes()).digest())
    digest.update(sys.version.split()[0].encode())
    return digest.hexdigest()[:16]


def status() -> tuple[bool, str]:
    """(ready, reason): ready when the cached environment matches its inputs."""
    archives = archives_dir()
    if archives is None:
        where = os.environ.get(SRC_ENV) or REPO.parent / "shared" / "interop"
        return False, (f"the consumers' source archives ({', '.join(ARCHIVES.values())}) are not in "
                       f"{where}; set {SRC_ENV} to their folder")
    if not STAMP.is_file():
        why = FAILURE.read_text().strip() if FAILURE.is_file() else "not created yet (make interop-env)"
        return False, f".venv-interop: {why}"
    stamp = json.loads(STAMP.read_text())
    if stamp.get("fingerprint") != fingerprint(archives):
        return False, ".venv-interop is stale (constraints-interop.txt or the archives changed)"
    return True, f".venv-interop ready (created in {stamp.get('created_s', '?')} s)"


def _run(cmd: list[str], log) -> None:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    res = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=1800)
    if res.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd[:4])} ...` failed (exit {res.returncode})")


def create(python: str = "python3", force: bool = False) -> Path:
    """Creates (or reuses) .venv-interop; returns its Python. RuntimeError saying why it cannot."""
    ready, reason = status()
    if ready and not force:
        return python_path()
    archives = archives_dir()
    if archives is None:
        raise RuntimeError(reason)
    start = time.monotonic()
    tmp = REPO / f".venv-interop.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    log_path = REPO / ".venv-interop.log"
    try:
        with open(log_path, "w") as log:
            _run([python, "-m", "venv", str(tmp)], log)
            pip = [str(tmp / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
            _run(pip + [PIP], log)
            _run(pip + ["-c", str(CONSTRAINTS), *REQUIREMENTS], log)
            check = subprocess.run([str(tmp / "bin" / "python"), "-m", "pip", "check"],
                                   capture_output=True, text=True)
            if check.returncode != 0:
                raise RuntimeError(f"pip check: {check.stdout.strip()}")
        _unpack(archives, src_dir(tmp))
        site = next((tmp / "lib").glob("python3*/site-packages"))
        (site / "rldg_interop.pth").write_text(
            "\n".join(str(src_dir(ENV_DIR) / p) for p in ("octo", "dlimp")) + "\n")
        _probe(tmp)
        seconds = round(time.monotonic() - start, 1)
        (tmp / STAMP.name).write_text(json.dumps({
            "fingerprint": fingerprint(archives), "created_s": seconds, "archives": str(archives),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))
        shutil.rmtree(ENV_DIR, ignore_errors=True)
        tmp.rename(ENV_DIR)
    except (RuntimeError, OSError, subprocess.SubprocessError, StopIteration) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        message = f"creating it failed: {exc} (log: {log_path})"
        FAILURE.write_text(message + "\n")
        raise RuntimeError(message) from exc
    FAILURE.unlink(missing_ok=True)
    return python_path()


def _unpack(archives: Path, dest: Path) -> None:
    """Unpacks each archive (a `git archive` with one top folder) into dest/<top folder>."""
    dest.mkdir(parents=True)
    for name in ARCHIVES.values():
        with tarfile.open(archives / name) as tar:
            tar.extractall(dest, filter="data")


def _probe(env: Path) -> None:
    """Imports Octo's and dlimp's data code in the new environment (paths as the .pth will give)."""
    code = ("import sys; sys.path[:0] = [sys.argv[1] + '/octo', sys.argv[1] + '/dlimp'];"
            "import tensorflow, tensorflow_datasets, dlimp, octo.data.dataset, ml_collections;"
            # everything Octo's scripts/finetune.py imports (its fine-tuning runs in this env)
            "import jax, flax, optax, wandb, octo.model.octo_model, octo.utils.train_callbacks,"
            " octo.utils.train_utils, octo.utils.jax_utils;"
            # what OpenVLA's data path imports besides TensorFlow (its model stack is not installed)
            "import torch, transformers, tokenizers")
    res = subprocess.run([str(env / "bin" / "python"), "-c", code, str(src_dir(env))],
                         capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    if res.returncode != 0:
        raise RuntimeError(f"the new environment cannot import Octo: {res.stderr.strip()[-500:]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=os.environ.get("PYTHON", "python3"),
                        help="base interpreter (Python 3.11)")
    parser.add_argument("--required", action="store_true", default=required(),
                        help="exit 1 if it cannot be created (default in CI)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    ready, reason = status()
    if ready and not args.force:
        print(reason)
        return 0
    print(f"creating .venv-interop ({reason}); a few minutes the first time", flush=True)
    try:
        create(args.python, force=args.force)
    except RuntimeError as exc:
        print(f".venv-interop unavailable: {exc}", file=sys.stderr)
        if args.required:
            return 1
        print("the interop tests will skip (in CI they fail)", file=sys.stderr)
        return 0
    print(status()[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
