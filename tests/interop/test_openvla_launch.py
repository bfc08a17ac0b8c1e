"""`rldg finetune openvla DATASET --openvla-python PY --openvla-repo CLONE` against OpenVLA's own source
(openvla/openvla c8f03f4) in .venv-interop, as far as it goes without a GPU and the 7B weights: the
command it would run, its arguments, the dataset registered and resolved by OpenVLA's own OXE
registry and TFDS (the export's openvla_preflight.py, run by rldg before torchrun), and the one-line
error a user without the weights (HF_HUB_OFFLINE=1, an empty Hugging Face cache) gets, without a
traceback and without a network attempt.

.venv-interop holds OpenVLA's data path but not its model stack (timm, peft, accelerate, draccus,
flash-attn): "PY" here is a two-line wrapper that starts .venv-interop's Python with
tests/interop/openvla_stubs.py as sitecustomize (package modules standing in for the `__init__`
files that import the model stack; every module the preflight uses is OpenVLA's). So the error also
names those missing modules and the missing GPU, as it would for such an environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from tests.interop import side_env
from tests.interop.conftest import BIN, REPO
from tests.interop.expected import episodes_by_split

TORCHRUN = "-m torch.distributed.run --standalone --nnodes 1 --nproc-per-node 1"


@pytest.fixture(scope="module")
def openvla_python(side_python, tmp_path_factory) -> tuple[Path, Path]:
    """(wrapper Python, OpenVLA clone): .venv-interop's Python with OpenVLA's source importable."""
    folder = tmp_path_factory.mktemp("openvla_python")
    (folder / "sitecustomize.py").write_text("import openvla_stubs  # noqa: F401\n")
    wrapper = folder / "python"
    src = side_env.src_dir() / "openvla"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(folder))}:{shlex.quote(str(REPO / 'tests' / 'interop'))} "
                       f"RLDG_OPENVLA_SRC={shlex.quote(str(src))} exec {shlex.quote(str(side_python))} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper, src


def test_launch_registers_the_dataset_and_stops_with_one_line_without_weights(demo_mix, openvla_python, tmp_path):
    python, clone = openvla_python
    out = tmp_path / "export"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf_home"), CUDA_VISIBLE_DEVICES="",
               TF_CPP_MIN_LOG_LEVEL="2")
    start = time.monotonic()
    res = subprocess.run([str(BIN / "rldg"), "finetune", "openvla", str(demo_mix), "--out", str(out),
                          "--openvla-python", str(python), "--openvla-repo", str(clone)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    assert res.returncode == 2, f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    # the command: torchrun in OpenVLA's Python, our launcher, OpenVLA's own finetune.py, the export's arguments
    command = next(line for line in res.stdout.splitlines() if line.startswith("OpenVLA command"))
    assert command.startswith(f"OpenVLA command (in {clone}): ")
    args = json.loads((out / "openvla_finetune_args.json").read_text())
    want = [str(python), *TORCHRUN.split(), str(out.resolve() / "openvla_launch.py"),
            str(clone / "vla-scripts" / "finetune.py"), *args]
    assert shlex.split(command.split(": ", 1)[1]) == want
    options = dict(zip(args[0::2], args[1::2]))
    assert options["--vla_path"] == "openvla/openvla-7b" and options["--dataset_name"] == "demo_mix_openvla"
    assert options["--data_root_dir"] == str(out.resolve() / "data") and options["--batch_size"] == "16"
    # the dataset, registered as openvla_launch.py does, resolved by OpenVLA's registry and TFDS
    resolved = next(line for line in res.stdout.splitlines() if line.startswith("OpenVLA resolves"))
    assert (f"OpenVLA resolves demo_mix_openvla (mixture [['demo_mix_openvla', 1.0]]) to {out.resolve() / 'data'}, "
            "primary camera image, standardize_fn rldg_dataset_transform, splits {") in resolved
    splits = json.loads(re.search(r"splits (\{.*?\})", resolved).group(1).replace("'", '"'))
    assert splits == {split: len(eps) for split, eps in episodes_by_split(demo_mix).items()}  # the mix's train/val
    assert set(splits) == {"train", "val"}
    assert "weights of openvla/openvla-7b: missing; CUDA GPU: False" in resolved
    # what a user without the weights sees: one error line, no traceback, no network wait
    errors = res.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("rldg finetune: error: OpenVLA fine-tuning not started: "), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert ("the weights of openvla/openvla-7b are not in the Hugging Face cache and HF_HUB_OFFLINE is set: "
            "download them where there is network (`huggingface-cli download openvla/openvla-7b`, ~15 GB) "
            "or pass a local copy as --vla-path") in errors[0]
    assert "lacks peft, accelerate, draccus, timm" in errors[0]  # the model stack .venv-interop does not hold
    assert "torch sees no CUDA GPU" in errors[0]
    assert not (out / "runs").exists()  # torchrun never started
    assert seconds < 300
