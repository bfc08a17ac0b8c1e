"""Octo export of a contract dataset: dataset kwargs, statistics, standardize function and config.

`export_octo(dataset, out)` writes what Octo's `make_single_dataset` and `scripts/finetune.py`
need, so that they read our dataset from disk as it is: `octo_dataset_kwargs.json` (name and
data_dir as `tfds.builder(name, data_dir=...)` finds the dataset: `"<builder>/<config>"` for a
dataset built with a builder config, image_obs_keys {primary, wrist}, proprio_obs_key,
language_key, normalization type and mask, statistics path, standardize_fn as a ModuleSpec dict
{module, name, args, kwargs}; no depth_obs_keys, as Octo's own kwargs when no depth is loaded),
`dataset_statistics.json` (Octo's keys), `rldg_octo_standardize.py` (the standardize function,
plain TensorFlow), and `octo_finetune_config.py` (+ .json) for `finetune.py --config=...`.
Checked against Octo's own code (octo-models/octo 241fb35) by tests/interop. Octo pins tensorflow
2.15, so `trainers.octo_launch.launch_octo` runs its script in the user's own Octo Python (`--octo-python`).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.errors import ContractError, UnavailableError
from rldg_data.io.outputs import output_dir
from rldg_data.io.reader import DatasetFiles, open_dataset
from rldg_data.exports.common import require_contract_dataset, tfds_location
from rldg_data.exports.octo_layout import (ACTION_HORIZON, OCTO_STAT_KEYS, PRETRAINED, PRETRAINED_ACTION_DIM,
                                           PRIMARY_SIZE, STANDARDIZE_FN, STANDARDIZE_MODULE, STANDARDIZE_SPEC,
                                           WINDOW, WRIST_SIZE)
from rldg_data.exports.octo_readme import octo_readme


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


def schedule(steps: int) -> dict:
    """Warmup, logging and saving intervals for a run of `steps` steps.

    Octo's finetune_config.py uses 2000 warmup steps, logs every 100 and saves every 5000: a run
    shorter than that would never leave warmup, log or save. Warmup is at most a tenth of the run,
    logging at least ten times, and the save interval divides `steps`, so the last step is saved.
    """
    steps = max(1, int(steps))
    save = next(d for d in range(min(5000, steps), 0, -1) if steps % d == 0)
    return {"warmup_steps": min(2000, max(1, steps // 10)), "log_interval": max(1, min(100, steps // 10)),
            "save_interval": save, "eval_interval": 5000}


def finetune_config(kwargs: dict, *, steps: int = 5000, batch_size: int = 64,
                    save_dir: str = "octo_runs", pretrained_path: str = PRETRAINED,
                    primary_size: int = PRIMARY_SIZE, wrist_size: int = WRIST_SIZE,
                    num_transitions: Optional[int] = None) -> dict:
    """The values of Octo's scripts/configs/finetune_config.py, for our dataset (head-only off).

    The shuffle buffer holds at most the dataset's transitions (Octo's 10000 would only fill with
    repeats of a smaller dataset, and decode all of them before the first step)."""
    update = head_update(len(kwargs["action_normalization_mask"]))
    plan = schedule(steps)
    buffer = 10000 if num_transitions is None else max(1, min(10000, int(num_transitions)))
    return {
        "pretrained_path": pretrained_path, "pretrained_step": None,
        "batch_size": batch_size, "shuffle_buffer_size": buffer, "num_steps": steps,
        "log_interval": plan["log_interval"], "eval_interval": plan["eval_interval"],
        "save_interval": plan["save_interval"], "save_dir": save_dir,
        "seed": 42, "wandb": {"project": "octo_finetune", "group": None, "entity": None},
        "dataset_kwargs": kwargs, "modality": "multimodal", "finetuning_mode": "full",
        "window_size": WINDOW,
        "optimizer": {"learning_rate": {"name": "cosine", "init_value": 0.0, "peak_value": 3e-4,
                                        "warmup_steps": plan["warmup_steps"], "decay_steps": steps,
                                        "end_value": 0.0},
                      "weight_decay": 0.01, "clip_gradient": 1.0, "frozen_keys": None,
                      "grad_accumulation_steps": None},
        "val_kwargs": {"val_shuffle_buffer_size": 1000, "num_val_batches": 16},
        "viz_kwargs": {"eval_batch_size": 128, "trajs_for_metrics": 100, "trajs_for_viz": 8,
                       "samples_per_state": 8},
        "traj_transform_kwargs": {"window_size": WINDOW, "action_horizon": ACTION_HORIZON,
                                  "goal_relabeling_strategy": None, "task_augment_strategy": None,
                                  "task_augment_kwargs": {}},
        "frame_transform_kwargs": {
            "resize_size": {"primary": [primary_size, primary_size], "wrist": [wrist_size, wrist_size]},
            "image_augment_kwargs": {}},
        "config_delete_keys": {}, **({"update_config": update} if update else {}),
    }


def export_octo(dataset: str | os.PathLike, out: Optional[str | os.PathLike] = None, *,
                steps: int = 5000, batch_size: int = 64, force: bool = False,
                pretrained: str = PRETRAINED, primary_size: int = PRIMARY_SIZE,
                wrist_size: int = WRIST_SIZE) -> Path:
    """Writes the Octo fine-tuning inputs for `dataset` into `out` (atomically); returns `out`.

    `out` must be new or empty, or (with `force`) an earlier Octo export: see `io.outputs`.
    `pretrained`: the checkpoint fine-tuning starts from (Octo's `hf://...` or a local folder made
    by `OctoModel.save_pretrained`); `primary_size` / `wrist_size`: the image sizes Octo resizes to
    (256 / 128 for octo-small/base-1.5; a smaller checkpoint may expect others).
    """
    from rldg_data.loaders import dataset_statistics

    files = require_contract_dataset(dataset, "Octo")
    name, data_dir = tfds_location(files)
    out = Path(out) if out else data_dir / f"{name.split(':')[0].replace('/', '_')}_octo"
    stats = _gripper_to_unit(dataset_statistics(files.path))
    with output_dir(out, "rldg finetune octo", force=force, inputs=[files.path]) as tmp:
        stats_path = str((out / "dataset_statistics.json").resolve())
        kwargs = dataset_kwargs(files.path, stats_path)
        _write_json(tmp / "dataset_statistics.json", octo_statistics(stats))
        _write_json(tmp / "octo_dataset_kwargs.json", kwargs)
        _write_json(tmp / "octo_finetune_config.json",
                    finetune_config(kwargs, steps=steps, batch_size=batch_size,
                                    save_dir=str((out / "runs").resolve()),
                                    pretrained_path=_pretrained_path(pretrained),
                                    primary_size=primary_size, wrist_size=wrist_size,
                                    num_transitions=stats["num_transitions"]))
        (tmp / f"{STANDARDIZE_MODULE}.py").write_text(STANDARDIZE_SOURCE)
        (tmp / "octo_finetune_config.py").write_text(
            CONFIG_SOURCE.format(module=STANDARDIZE_MODULE, export=out.resolve()))
        (tmp / "README.md").write_text(octo_readme(files, kwargs, out.resolve()))
    return out


def _pretrained_path(pretrained: str) -> str:
    """`hf://...` as given; a local checkpoint folder made absolute (must hold Octo's config.json)."""
    if pretrained.startswith(("hf://", "gs://")):
        return pretrained
    path = Path(pretrained).expanduser().resolve()
    if not (path / "config.json").is_file():
        raise UnavailableError(f"--pretrained {pretrained}: no Octo checkpoint there (no config.json; "
                               "a folder written by OctoModel.save_pretrained, or hf://owner/name)")
    return str(path)


def _write_json(path: Path, values) -> None:
    path.write_text(json.dumps(values, indent=2, sort_keys=True))


