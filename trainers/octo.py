"""Octo fine-tuning from a contract dataset: dataset kwargs, statistics, config, and a launcher.

`export_octo(dataset, out)` writes what Octo's `make_single_dataset` and `scripts/finetune.py`
need, so that they read our dataset from disk as it is: `octo_dataset_kwargs.json` (name and
data_dir as `tfds.builder(name, data_dir=...)` finds the dataset: `"<builder>/<config>"` for a
dataset built with a builder config, image_obs_keys {primary, wrist}, proprio_obs_key,
language_key, normalization type and mask, statistics path, standardize_fn as a ModuleSpec dict
{module, name, args, kwargs}; no depth_obs_keys, as Octo's own kwargs when no depth is loaded),
`dataset_statistics.json` (Octo's keys), `rldg_octo_standardize.py` (the standardize function,
plain TensorFlow), and `octo_finetune_config.py` (+ .json) for `finetune.py --config=...`.
Checked against Octo's own code (octo-models/octo 241fb35) by tests/interop. Octo pins tensorflow
2.15, so `launch_octo` runs its script in the user's own Octo Python (`--octo-python`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.errors import ContractError, UnavailableError
from rldg_data.io.atomic import replace_dir
from rldg_data.io.reader import DatasetFiles, open_dataset
from trainers.octo_readme import octo_readme

PRIMARY_SIZE, WRIST_SIZE, ACTION_HORIZON, WINDOW = 256, 128, 4, 2
STANDARDIZE_MODULE = "rldg_octo_standardize"
STANDARDIZE_FN = f"{STANDARDIZE_MODULE}:standardize"
# Octo >= 1.5 (octo-models/octo cdee00c, May 2024) instantiates standardize_fn as a ModuleSpec.
STANDARDIZE_SPEC = {"module": STANDARDIZE_MODULE, "name": "standardize", "args": [], "kwargs": {}}
PRETRAINED_ACTION_DIM = 7  # octo-small/base-1.5's action head: xyz, rpy, gripper
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

Use, from a clone of octo-models/octo:
    PYTHONPATH={export} python scripts/finetune.py --config={export}/octo_finetune_config.py
(the folder of this file must be on PYTHONPATH so that `{module}` imports). Octo before 1.5
(before commit cdee00c, May 2024) loaded standardize_fn from a "path/to/file.py:function" string:
this file detects which Octo it runs in; `--config=...octo_finetune_config.py:legacy` forces it.
"""

import inspect
import json
import os

from ml_collections import ConfigDict

HERE = os.path.dirname(os.path.abspath(__file__))


def octo_takes_module_spec():
    """True for Octo >= 1.5 (standardize_fn is a ModuleSpec), False for older Octo."""
    try:
        from octo.data.dataset import make_dataset_from_rlds
    except ImportError:
        return True
    annotation = inspect.signature(make_dataset_from_rlds).parameters["standardize_fn"].annotation
    return "ModuleSpec" in str(annotation)


def get_config(config_string=None):
    with open(os.path.join(HERE, "octo_finetune_config.json")) as f:
        values = json.load(f)
    resize = values["frame_transform_kwargs"]["resize_size"]
    values["frame_transform_kwargs"]["resize_size"] = {{k: tuple(v) for k, v in resize.items()}}
    if config_string == "legacy" or (config_string is None and not octo_takes_module_spec()):
        spec = values["dataset_kwargs"]["standardize_fn"]
        values["dataset_kwargs"]["standardize_fn"] = os.path.join(HERE, spec["module"] + ".py") + ":" + spec["name"]
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


def require_contract_dataset(dataset: str | os.PathLike, target: str) -> DatasetFiles:
    """The dataset's files if it is a valid contract dataset; ContractError naming what is wrong.

    An export for a trainer is only as good as its data: a dataset of other features, or one that
    breaks the contract, is refused before anything is written (`rldg validate` shows it all).
    """
    from rldg_data.contract.validate import validate_dataset

    files = open_dataset(dataset)
    if files.spec is None:
        raise ContractError(f"not a contract dataset ({files.spec_error}); the {target} export reads "
                            "datasets written by `tfds build builders/...`, `rldg mix` or `rldg import`",
                            file=str(files.path / "features.json"),
                            hint=f"check it with `rldg validate {files.path}`")
    report = validate_dataset(files.path, max_violations=3)
    if not report.ok:
        first = report.violations[0]
        raise ContractError(f"not a valid contract dataset ({len(report.violations)}+ violations; "
                            f"first: {first}); the {target} export refuses it", file=str(files.path),
                            hint=f"see all with `rldg validate {files.path}`")
    return files


def fallback_val_episodes(files: DatasetFiles) -> Optional[int]:
    """Episodes in `train[95%:]`, the validation split Octo and OpenVLA take when a dataset has no
    `val` split (TFDS rounds percent slices to the closest episode); None when it has one."""
    if "val" in files.shard_lengths:
        return None
    n = sum(files.shard_lengths.get("train", []))
    return n - int(round(95 * n / 100))


def val_note(files: DatasetFiles, consumer: str, fails: str) -> str:
    """One README sentence on the validation split `consumer` will read (and if it will fail)."""
    count = fallback_val_episodes(files)
    if count is None:
        return f"{consumer} validates on the dataset's `val` split."
    note = (f"The dataset has no `val` split: {consumer}'s validation takes the last 5% of `train` "
            f"(`train[95%:]`), {count} episode(s) here.")
    if count == 0:
        note += (f" That is empty: TFDS refuses it (\"Instruction [] corresponds to no data\"), so {fails}. "
                 "Give the dataset a `val` split (a recipe's `val_fraction`) or at least 11 episodes.")
    return note


def tfds_location(files: DatasetFiles) -> tuple[str, Path]:
    """(name, data_dir) with which `tfds.builder(name, data_dir=data_dir)` opens this dataset.

    A dataset built with a builder config lives at DATA/<builder>/<config>/<version> and is named
    "<builder>/<config>" under DATA; one without (`rldg mix`, `rldg import`) at DATA/<name>/<version>.
    The version is pinned ("name:version"), so a newer build beside it is not read instead.
    """
    info = json.loads((files.path / "dataset_info.json").read_text())
    version_dir = files.path.resolve()
    config = info.get("configName")
    if config and version_dir.parent.name == config:
        builder_dir = version_dir.parent.parent
        return f"{builder_dir.name}/{config}:{version_dir.name}", builder_dir.parent
    return f"{version_dir.parent.name}:{version_dir.name}", version_dir.parent.parent


def dataset_kwargs(dataset: str | os.PathLike, statistics_path: str) -> dict:
    """The `dataset_kwargs` of Octo's `make_single_dataset` for a contract dataset.

    No `depth_obs_keys`: all-None depth keys break Octo's train-time frame transforms (image
    dropout cannot infer the padding's shape); Octo's own kwargs omit the key when no depth loads.
    """
    files = open_dataset(dataset)
    adim = files.spec.action_dim
    name, data_dir = tfds_location(files)
    return {
        "name": name,
        "data_dir": str(data_dir),
        "image_obs_keys": {"primary": "image", "wrist": "wrist_image" if files.spec.wrist else None},
        "proprio_obs_key": "state",
        "language_key": "language_instruction",
        "action_proprio_normalization_type": "normal",
        "action_normalization_mask": [True] * (adim - 1) + [False],
        "dataset_statistics": statistics_path,
        "standardize_fn": dict(STANDARDIZE_SPEC),
        "skip_norm": False,
        "filter_functions": [],
        "num_parallel_reads": 8,
        "num_parallel_calls": 16,
    }


def head_update(action_dim: int) -> Optional[dict]:
    """`update_config` that gives the pretrained model an action head of `action_dim` outputs.

    octo-small/base-1.5 predict 7-D actions. For any other size, finetune.py builds the head with
    our size; `merge_params` copies every pretrained weight whose shape matches and leaves the
    head's shape-changed layers freshly initialized (they learn during fine-tuning).
    """
    if action_dim == PRETRAINED_ACTION_DIM:
        return None
    return {"model": {"heads": {"action": {"kwargs": {"action_dim": action_dim}}}}}


def finetune_config(kwargs: dict, *, steps: int = 5000, batch_size: int = 64,
                    save_dir: str = "octo_runs", pretrained_path: str = PRETRAINED) -> dict:
    """The values of Octo's scripts/configs/finetune_config.py, for our dataset (head-only off)."""
    update = head_update(len(kwargs["action_normalization_mask"]))
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
        "config_delete_keys": {}, **({"update_config": update} if update else {}),
    }


def export_octo(dataset: str | os.PathLike, out: Optional[str | os.PathLike] = None, *,
                steps: int = 5000, batch_size: int = 64) -> Path:
    """Writes the Octo fine-tuning inputs for `dataset` into `out` (atomically); returns `out`."""
    from rldg_data.loaders import dataset_statistics

    files = require_contract_dataset(dataset, "Octo")
    name, data_dir = tfds_location(files)
    out = Path(out) if out else data_dir / f"{name.split(':')[0].replace('/', '_')}_octo"
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
        (tmp / "octo_finetune_config.py").write_text(
            CONFIG_SOURCE.format(module=STANDARDIZE_MODULE, export=out.resolve()))
        (tmp / "README.md").write_text(octo_readme(files, kwargs, out.resolve()))
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


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
