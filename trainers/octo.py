"""Octo fine-tuning from a contract dataset: dataset kwargs, statistics, config, and a launcher.

`export_octo(dataset, out)` writes what Octo's `make_single_dataset` and `scripts/finetune.py`
need, so that they read our dataset from disk as it is: `octo_dataset_kwargs.json` (name, data_dir,
image_obs_keys {primary, wrist}, proprio_obs_key, language_key, normalization type and mask,
statistics path, standardize_fn as a "module:function" string), `dataset_statistics.json` (Octo's
keys), `rldg_octo_standardize.py` (the standardize function, plain TensorFlow), and
`octo_finetune_config.py` (+ .json) for `finetune.py --config=...`. Octo pins tensorflow 2.15, so
`launch_octo` runs its script in the user's own Octo Python (`--octo-python`) as a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.io.atomic import replace_dir
from rldg_data.errors import UnavailableError
from rldg_data.io.reader import open_dataset

PRIMARY_SIZE, WRIST_SIZE, ACTION_HORIZON, WINDOW = 256, 128, 4, 2
STANDARDIZE_MODULE = "rldg_octo_standardize"
STANDARDIZE_FN = f"{STANDARDIZE_MODULE}:standardize"
OCTO_STAT_KEYS = ("mean", "std", "max", "min", "p99", "p01")
PRETRAINED = "hf://rail-berkeley/octo-small-1.5"

SETUP_HELP = (
    "Octo needs its own Python environment (it pins tensorflow 2.15 and an older jax): "
    "`git clone https://github.com/octo-models/octo && cd octo && python -m venv .venv && "
    ".venv/bin/pip install -e . -r requirements.txt`, then pass --octo-python octo/.venv/bin/python")

STANDARDIZE_SOURCE = '''"""Standardize function for rldg-data contract datasets in Octo (written by `rldg finetune octo`).

Octo calls it on each trajectory before restructuring. Contract datasets already use Octo's keys
(observation/image, observation/wrist_image, observation/state, action, language_instruction); the
only change is the gripper: the contract's +1 open / -1 closed becomes Octo's absolute gripper in
[0, 1] (1 = open), as Octo's Open X-Embodiment standardization transforms produce.
"""

import tensorflow as tf


def standardize(trajectory):
    action = tf.cast(trajectory["action"], tf.float32)
    gripper = (action[:, -1:] + 1.0) / 2.0
    trajectory["action"] = tf.concat([action[:, :-1], gripper], axis=-1)
    return trajectory
'''

CONFIG_SOURCE = '''"""Octo fine-tuning config for scripts/finetune.py (written by `rldg finetune octo`).

Use: python scripts/finetune.py --config=THIS_FILE.py  (the folder of this file must be on
PYTHONPATH so that `{module}` imports; `rldg finetune octo --octo-python` sets it).
"""

import json
import os

from ml_collections import ConfigDict


def get_config(config_string=None):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "octo_finetune_config.json")) as f:
        values = json.load(f)
    resize = values["frame_transform_kwargs"]["resize_size"]
    values["frame_transform_kwargs"]["resize_size"] = {{k: tuple(v) for k, v in resize.items()}}
    try:  # newer Octo takes ModuleSpecs for callables; older ones a "module:function" string
        from octo.utils.spec import ModuleSpec

        values["dataset_kwargs"]["standardize_fn"] = ModuleSpec.create(values["dataset_kwargs"]["standardize_fn"])
    except ImportError:
        pass
    return ConfigDict(values)
'''


def octo_statistics(stats: dict) -> dict:
    """Octo's dataset_statistics.json layout from toolkit statistics (gripper already in [0, 1])."""
    out = {key: {k: list(stats[key][k]) for k in OCTO_STAT_KEYS} for key in ("action", "proprio")}
    out["num_transitions"] = int(stats["num_transitions"])
    out["num_trajectories"] = int(stats["num_trajectories"])
    return out


def _gripper_to_unit(stats: dict) -> dict:
    """Statistics of actions after the standardize function ((g + 1) / 2 on the last dimension)."""
    action = {k: list(v) for k, v in stats["action"].items()}
    for key in ("mean", "min", "max", "p01", "p99", "q01", "q99"):
        if key in action:
            action[key][-1] = (action[key][-1] + 1.0) / 2.0
    action["std"][-1] = action["std"][-1] / 2.0
    return {**stats, "action": action}


def dataset_kwargs(dataset: str | os.PathLike, statistics_path: str) -> dict:
    """The `dataset_kwargs` of Octo's `make_single_dataset` for a contract dataset."""
    files = open_dataset(dataset)
    adim = files.spec.action_dim
    return {
        "name": files.name,
        "data_dir": str(files.path.parent.parent.resolve()),
        "image_obs_keys": {"primary": "image", "wrist": "wrist_image" if files.spec.wrist else None},
        "depth_obs_keys": {"primary": None, "wrist": None},
        "proprio_obs_key": "state",
        "language_key": "language_instruction",
        "action_proprio_normalization_type": "normal",
        "action_normalization_mask": [True] * (adim - 1) + [False],
        "dataset_statistics": statistics_path,
        "standardize_fn": STANDARDIZE_FN,
        "skip_norm": False,
        "filter_functions": [],
        "num_parallel_reads": 8,
        "num_parallel_calls": 16,
    }


def finetune_config(kwargs: dict, *, steps: int = 5000, batch_size: int = 64,
                    save_dir: str = "octo_runs", pretrained_path: str = PRETRAINED) -> dict:
    """The values of Octo's scripts/configs/finetune_config.py, for our dataset (head-only off)."""
    return {
        "pretrained_path": pretrained_path, "pretrained_step": None,
        "batch_size": batch_size, "shuffle_buffer_size": 10000, "num_steps": steps,
        "log_interval": 100, "eval_interval": 5000, "save_interval": 5000, "save_dir": save_dir,
        "seed": 42, "wandb": {"project": "octo_finetune", "group": None, "entity": None},
        "dataset_kwargs": kwargs, "modality": "multimodal", "finetuning_mode": "full",
        "window_size": WINDOW,
        "optimizer": {"learning_rate": {"name": "cosine", "init_value": 0.0, "peak_value": 3e-4,
                                        "warmup_steps": 2000, "decay_steps": steps, "end_value": 0.0},
                      "weight_decay": 0.01, "clip_gradient": 1.0, "frozen_keys": None,
                      "grad_accumulation_steps": None},
        "val_kwargs": {"val_shuffle_buffer_size": 1000, "num_val_batches": 16},
        "viz_kwargs": {"eval_batch_size": 128, "trajs_for_metrics": 100, "trajs_for_viz": 8,
                       "samples_per_state": 8},
        "traj_transform_kwargs": {"window_size": WINDOW, "action_horizon": ACTION_HORIZON,
                                  "goal_relabeling_strategy": None, "task_augment_strategy": None,
                                  "task_augment_kwargs": {}},
        "frame_transform_kwargs": {
            "resize_size": {"primary": [PRIMARY_SIZE, PRIMARY_SIZE], "wrist": [WRIST_SIZE, WRIST_SIZE]},
            "image_augment_kwargs": {}},
        "config_delete_keys": {}, "update_config": None,
    }


def export_octo(dataset: str | os.PathLike, out: Optional[str | os.PathLike] = None, *,
                steps: int = 5000, batch_size: int = 64) -> Path:
    """Writes the Octo fine-tuning inputs for `dataset` into `out` (atomically); returns `out`."""
    from rldg_data.loaders import dataset_statistics

    files = open_dataset(dataset)
    out = Path(out) if out else files.path.parent.parent / f"{files.name}_octo"
    stats = _gripper_to_unit(dataset_statistics(files.path))
    tmp = out.with_name(f".tmp-{out.name}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        stats_path = str((out / "dataset_statistics.json").resolve())
        kwargs = dataset_kwargs(files.path, stats_path)
        _write_json(tmp / "dataset_statistics.json", octo_statistics(stats))
        _write_json(tmp / "octo_dataset_kwargs.json", kwargs)
        _write_json(tmp / "octo_finetune_config.json",
                    finetune_config(kwargs, steps=steps, batch_size=batch_size,
                                    save_dir=str((out / "runs").resolve())))
        (tmp / f"{STANDARDIZE_MODULE}.py").write_text(STANDARDIZE_SOURCE)
        (tmp / "octo_finetune_config.py").write_text(CONFIG_SOURCE.format(module=STANDARDIZE_MODULE))
        (tmp / "README.md").write_text(_report(files, kwargs))
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _report(files, kwargs) -> str:
    return (f"# Octo fine-tuning export of `{files.name}` {files.version}\n\n"
            f"Dataset: `{files.path}` ({files.num_episodes} episodes), read by Octo as it is.\n\n"
            "- `octo_dataset_kwargs.json`: `make_single_dataset(json.load(f), train=True, ...)`; "
            f"put this folder on PYTHONPATH so `{STANDARDIZE_FN}` imports.\n"
            "- `dataset_statistics.json`: action/proprio mean, std, min, max, p01, p99 (gripper "
            "mapped from +1 open/-1 closed to [0, 1], not normalized).\n"
            f"- `octo_finetune_config.py`: `scripts/finetune.py --config=...`; window {WINDOW}, "
            f"action horizon {ACTION_HORIZON}, primary {PRIMARY_SIZE}x{PRIMARY_SIZE}, "
            f"wrist {WRIST_SIZE}x{WRIST_SIZE}.\n"
            f"- Cameras: {kwargs['image_obs_keys']}\n")


def _write_json(path: Path, values) -> None:
    path.write_text(json.dumps(values, indent=2, sort_keys=True))


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
