"""OpenVLA export of a contract dataset: an OpenVLA-ready copy, registration and statistics.

OpenVLA's rules, met here or refused with a clear error: actions are 7-D end-effector deltas
(xyz, rpy) + absolute gripper, or 10-D (EEF_R6); the gripper is not normalized (BOUNDS_Q99 with
mask False); LoRA fine-tuning loads only the "primary" camera (a wrist-only export registers its
wrist camera as primary); frames are 224x224; dimensions with min == max normalize to 0. Our 4-D
actions (xyz + gripper) map to 7-D with zero rotation. `export_openvla` writes a contract dataset
with 7-D actions and 224x224 frames (it passes `rldg validate`), `openvla_registration.py` (the
`OXE_DATASET_CONFIGS` entry, standardization transform and mixture), `dataset_statistics.json`,
the arguments of `vla-scripts/finetune.py` and `openvla_preflight.py` (`trainers.openvla` runs the
check, then launches finetune.py, in the user's OpenVLA Python).
The copy keeps the source's splits (train, and val where there is one: OpenVLA validates on it;
without one it takes `train[95%:]`). Checked against OpenVLA's own code (openvla/openvla c8f03f4)
by tests/interop.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode
from rldg_data.errors import ContractError, UnavailableError
from rldg_data.io.images import resize_frames
from rldg_data.io.outputs import output_dir
from rldg_data.io.reader import iter_episodes
from rldg_data.io.writer import write_dataset
from rldg_data.exports.common import require_contract_dataset, val_note
from rldg_data.exports.openvla_preflight import PREFLIGHT, PREFLIGHT_SOURCE, VLA_PATH

IMAGE_SIZE = 224
PROMPT = "What action should the robot take to {instruction}?"
ACTION_TOKEN_BINS = 256
ENCODINGS = {7: "EEF_POS", 10: "EEF_R6"}


def to_openvla_actions(actions: np.ndarray, episode_id: str = "") -> tuple[np.ndarray, str]:
    """[T, 4] xyz + gripper -> [T, 7] (xyz, zero rpy, gripper); 7-D and 10-D pass unchanged.

    Returns the actions and their OpenVLA encoding; any other size raises ContractError.
    """
    dim = actions.shape[1]
    if dim == 4:
        zeros = np.zeros((len(actions), 3), np.float32)
        return np.concatenate([actions[:, :3], zeros, actions[:, 3:]], axis=1).astype(np.float32), "EEF_POS"
    if dim in ENCODINGS:
        return actions.astype(np.float32), ENCODINGS[dim]
    raise ContractError(f"{dim}-D actions cannot be exported for OpenVLA: it takes 7-D end-effector "
                        "deltas (xyz, rpy) + absolute gripper, or 10-D (EEF_R6); this toolkit maps "
                        "4-D (xyz + gripper) by zero rotation", episode_id=episode_id or None,
                        field=spec.ACTION)


def openvla_episode(episode: Episode) -> Episode:
    """One contract episode as OpenVLA wants it: 7-D (or 10-D) actions, 224x224 frames."""
    actions, _ = to_openvla_actions(episode.actions, episode.episode_id)
    steps = {spec.ACTION: actions, spec.IMAGE: resize_frames(episode.steps[spec.IMAGE], IMAGE_SIZE)}
    if spec.WRIST_IMAGE in episode.steps:
        steps[spec.WRIST_IMAGE] = resize_frames(episode.steps[spec.WRIST_IMAGE], IMAGE_SIZE)
    return episode.replace(steps)


def openvla_statistics(paths: Sequence[str | os.PathLike]) -> dict:
    """OpenVLA's statistics of standardized actions (gripper in [0, 1], mask False) and proprio."""
    from rldg_data.loaders import compute_statistics

    stats = compute_statistics(paths)
    action = {k: list(v) for k, v in stats["action"].items()}
    for key in ("mean", "min", "max", "p01", "p99", "q01", "q99"):
        action[key][-1] = (action[key][-1] + 1.0) / 2.0
    action["std"][-1] /= 2.0
    action["mask"] = [True] * (len(action["mean"]) - 1) + [False]
    keys = ("mean", "std", "max", "min", "q01", "q99", "mask")
    proprio = {k: stats["proprio"][k] for k in keys}
    return {"action": {k: action[k] for k in keys}, "proprio": proprio,
            "num_transitions": stats["num_transitions"], "num_trajectories": stats["num_trajectories"]}


def dataset_config(name: str, encoding: str, camera: str, has_wrist: bool) -> dict:
    """The `OXE_DATASET_CONFIGS[name]` entry (enums as their names)."""
    if camera == "wrist":
        images = {"primary": "wrist_image", "secondary": None, "wrist": None}
    else:
        images = {"primary": "image", "secondary": None, "wrist": "wrist_image" if has_wrist else None}
    return {"image_obs_keys": images,
            "depth_obs_keys": {"primary": None, "secondary": None, "wrist": None},
            "state_obs_keys": ["state"], "state_encoding": "NONE", "action_encoding": encoding}


REGISTRATION_SOURCE = '''"""Registers the rldg-data dataset {name!r} with OpenVLA (written by `rldg finetune openvla`).

Import this module before OpenVLA builds its datasets (openvla_launch.py does). Actions in the
exported dataset are {encoding}: {action_note}; the transform maps the gripper from +1 open /
-1 closed to OpenVLA's absolute [0, 1] (1 = open), which BOUNDS_Q99 leaves unnormalized.
"""

import tensorflow as tf
from prismatic.vla.datasets.rlds.oxe.configs import OXE_DATASET_CONFIGS, ActionEncoding, StateEncoding
from prismatic.vla.datasets.rlds.oxe.mixtures import OXE_NAMED_MIXTURES
from prismatic.vla.datasets.rlds.oxe.transforms import OXE_STANDARDIZATION_TRANSFORMS

NAME = {name!r}


def rldg_dataset_transform(trajectory):
    action = tf.cast(trajectory["action"], tf.float32)
    gripper = (action[:, -1:] + 1.0) / 2.0
    trajectory["action"] = tf.concat([action[:, :-1], gripper], axis=-1)
    return trajectory


OXE_DATASET_CONFIGS[NAME] = {{
    "image_obs_keys": {image_obs_keys!r},
    "depth_obs_keys": {depth_obs_keys!r},
    "state_obs_keys": {state_obs_keys!r},
    "state_encoding": StateEncoding.{state_encoding},
    "action_encoding": ActionEncoding.{action_encoding},
}}
OXE_STANDARDIZATION_TRANSFORMS[NAME] = rldg_dataset_transform
OXE_NAMED_MIXTURES[NAME] = [(NAME, 1.0)]
'''

LAUNCH_SOURCE = '''"""Runs OpenVLA's vla-scripts/finetune.py with the rldg dataset registered (written by rldg)."""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openvla_registration  # noqa: E402,F401  registers the dataset first

script = sys.argv[1]
sys.argv = [script] + sys.argv[2:]
runpy.run_path(script, run_name="__main__")
'''


def finetune_args(data_root: str, name: str, run_root: str, *, vla_path: str = VLA_PATH, batch_size: int = 16,
                  lora_rank: int = 32, learning_rate: float = 5e-4, save_steps: int = 5000) -> list[str]:
    """Arguments of vla-scripts/finetune.py for the exported dataset."""
    return ["--vla_path", vla_path, "--data_root_dir", data_root, "--dataset_name", name,
            "--run_root_dir", run_root, "--adapter_tmp_dir", f"{run_root}/adapter-tmp",
            "--lora_rank", str(lora_rank), "--batch_size", str(batch_size),
            "--grad_accumulation_steps", "1", "--learning_rate", str(learning_rate),
            "--image_aug", "True", "--wandb_project", "openvla-rldg", "--save_steps", str(save_steps)]


TORCHRUN = ["-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc-per-node", "1"]


def export_openvla(dataset: str | os.PathLike, out: Optional[str | os.PathLike] = None, *,
                   camera: str = "primary", name: Optional[str] = None,
                   openvla_repo: Optional[str] = None, vla_path: str = VLA_PATH, force: bool = False) -> Path:
    """Writes the OpenVLA export of `dataset` into `out` (atomically); returns `out`.

    camera: "primary" (observation/image is OpenVLA's primary) or "wrist" (the wrist camera is).
    vla_path: the model finetune.py starts from (a Hugging Face id, or a folder holding its weights).
    """
    files = require_contract_dataset(dataset, "OpenVLA")
    if camera not in ("primary", "wrist"):
        raise ContractError(f"camera must be 'primary' or 'wrist', got {camera!r}")
    if camera == "wrist" and not files.spec.wrist:
        raise ContractError("camera='wrist' but the dataset has no wrist camera",
                            file=str(files.path), field=spec.WRIST_IMAGE)
    _, encoding = to_openvla_actions(np.zeros((1, files.spec.action_dim), np.float32))
    name = name or f"{files.name}_openvla"
    out = Path(out) if out else files.path.parent.parent / name
    with output_dir(out, "rldg finetune openvla", force=force, inputs=[files.path]) as tmp:
        data_root = tmp / "data"
        converted = {split: (openvla_episode(ep) for ep in iter_episodes(files.path, split))
                     for split in files.shards}
        write_dataset(converted, data_root, name,
                      spec.DatasetSpec(IMAGE_SIZE, files.spec.wrist, files.spec.state_dim,
                                       7 if files.spec.action_dim == 4 else files.spec.action_dim,
                                       files.spec.image_encoding, files.spec.privileged_dim))
        ds_path = next((data_root / name).iterdir())
        stats = openvla_statistics([ds_path])
        config = dataset_config(name, encoding, camera, files.spec.wrist)
        _write(tmp, "dataset_statistics.json", {name: stats})
        _write(tmp, "openvla_dataset_config.json", {"name": name, "config": config,
                                                      "standardization_transform": "rldg_dataset_transform",
                                                      "mixture": [[name, 1.0]], "normalization_type": "BOUNDS_Q99",
                                                      "prompt": PROMPT, "action_token_bins": ACTION_TOKEN_BINS,
                                                      "image_size": [IMAGE_SIZE, IMAGE_SIZE]})
        note = ("the dataset's 4-D actions (xyz + gripper) mapped to 7-D by zero rotation (rpy = 0)"
                if files.spec.action_dim == 4 else f"the dataset's own {files.spec.action_dim}-D actions")
        (tmp / "openvla_registration.py").write_text(REGISTRATION_SOURCE.format(
            name=name, encoding=encoding, action_note=note, **config))
        (tmp / "openvla_launch.py").write_text(LAUNCH_SOURCE)
        (tmp / PREFLIGHT).write_text(PREFLIGHT_SOURCE)
        args = finetune_args(str((out / "data").resolve()), name, str((out / "runs").resolve()), vla_path=vla_path)
        _write(tmp, "openvla_finetune_args.json", args)
        (tmp / "README.md").write_text(_report(files, name, note, config, args, out.resolve(), openvla_repo))
    return out


def _write(folder: Path, file: str, values) -> None:
    (folder / file).write_text(json.dumps(values, indent=2, sort_keys=True))


def _report(files, name, note, config, args, out: Path, openvla_repo: Optional[str]) -> str:
    splits = ", ".join(f"{split} {sum(n)}" for split, n in files.shard_lengths.items())
    repo = str(Path(openvla_repo).resolve()) if openvla_repo else "/path/to/openvla"
    val = val_note(files, "OpenVLA", "a validation dataset (`train=False`) cannot be built; LoRA "
                   "fine-tuning (vla-scripts/finetune.py) reads `train` only and is not affected")
    quoted = " ".join(f'"{a}"' if " " in a else a for a in args)
    return f"""# OpenVLA fine-tuning export of `{files.name}` {files.version}

- Dataset `data/{name}/1.0.0`: a copy of `{files.path}` with every split kept ({splits}); {note};
  frames resized to {IMAGE_SIZE}x{IMAGE_SIZE}; still a contract dataset (`rldg validate` passes). {val}
- Primary camera: `{config['image_obs_keys']['primary']}` (LoRA fine-tuning loads only the primary camera).
- `dataset_statistics.json`: action/proprio mean, std, min, max, q01, q99, mask of the train split
  (gripper excluded: BOUNDS_Q99); dimensions with min == max (the zero rotation) normalize to 0.
  OpenVLA computes its own copy of these when it first reads the data (cached beside it).
- `openvla_registration.py`: OXE_DATASET_CONFIGS / OXE_STANDARDIZATION_TRANSFORMS /
  OXE_NAMED_MIXTURES entries; import it before OpenVLA builds its datasets (`openvla_launch.py` does).
- `openvla_preflight.py`: what `rldg finetune openvla --openvla-python` runs before torchrun: registers
  and resolves the dataset through OpenVLA's registry, looks for finetune.py's modules, the weights
  (local folder or Hugging Face cache, no download) and a CUDA GPU; one line per problem.
- Prompt: "{PROMPT}", actions as {ACTION_TOKEN_BINS}-bin tokens.

## Install OpenVLA (its own environment: it pins TensorFlow 2.15 and torch 2.2)
```sh
git clone https://github.com/openvla/openvla {repo} && cd {repo}
python3.10 -m venv .venv && .venv/bin/pip install -e .
.venv/bin/pip install packaging ninja && .venv/bin/pip install "flash-attn==2.5.5" --no-build-isolation
```

## Check that OpenVLA reads the data (a minute on a CPU)
In OpenVLA's environment, from its clone (the calls tests/interop/openvla_check.py makes):
```python
import sys
sys.path.insert(0, "{out}")
import openvla_registration   # registers `{name}` (dataset config and standardization transform)
from prismatic.vla.datasets.rlds.dataset import make_single_dataset
from prismatic.vla.datasets.rlds.oxe.materialize import make_oxe_dataset_kwargs
from prismatic.vla.datasets.rlds.utils.data_utils import NormalizationType

kwargs = make_oxe_dataset_kwargs("{name}", "{out}/data", load_camera_views=("primary",), load_proprio=True,
                                 load_language=True, action_proprio_normalization_type=NormalizationType.BOUNDS_Q99)
dataset, num_trajectories, statistics = make_single_dataset(
    kwargs, train=True, traj_transform_kwargs=dict(window_size=1, future_action_window_size=0),
    frame_transform_kwargs=dict(resize_size=(224, 224)))
trajectory = next(dataset.iterator())
print(num_trajectories, trajectory["action"].shape, trajectory["task"]["language_instruction"][0])
```
(`import prismatic` loads OpenVLA's model stack too; that is expected in its own environment.)

## Fine-tune (LoRA; one GPU, ~72 GB at batch size 16: lower `--batch_size`, raise `--grad_accumulation_steps`)
Run from the OpenVLA clone (finetune.py is given relative to it):
```sh
cd {repo}
WANDB_MODE=offline .venv/bin/torchrun --standalone --nnodes 1 --nproc-per-node 1 \\
    {out}/openvla_launch.py vla-scripts/finetune.py {quoted}
```
`WANDB_MODE=offline` keeps the Weights & Biases log on disk; to log online, drop it and add
`--wandb_entity YOUR_WANDB_ENTITY` (finetune.py's default entity is the OpenVLA authors' team).
The same from rldg: `rldg finetune openvla {files.path} --out {out} --openvla-python {repo}/.venv/bin/python --openvla-repo {repo}`.
"""


