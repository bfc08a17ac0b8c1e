"""The README.md of an Octo export: what each file is, and every command from install to training.

Kept apart from exports/octo.py (which writes the files) so that the text a user reads is in one
place. Every call written here is the one tests/interop runs against Octo's own code.
"""

from __future__ import annotations

from pathlib import Path

from rldg_data.exports.common import val_note
from rldg_data.exports.octo_layout import (ACTION_HORIZON, PRETRAINED, PRETRAINED_ACTION_DIM, PRIMARY_SIZE,
                                           STANDARDIZE_MODULE, WINDOW, WRIST_SIZE)

OCTO_COMMIT = "241fb3514b7c40957a86d869fecb7c7fc353f540"


def octo_readme(files, kwargs: dict, out: Path) -> str:
    """README.md for the export of `files` (a DatasetFiles) with dataset kwargs `kwargs` into `out`."""
    name, data_dir = kwargs["name"], kwargs["data_dir"]
    adim = len(kwargs["action_normalization_mask"])
    splits = ", ".join(f"{s} {sum(n)}" for s, n in files.shard_lengths.items())
    builder = name.split(":")[0]
    if "/" in builder:
        naming = (f"It was built with the builder config `{builder.split('/')[1]}`, so it lives at "
                  f"`{data_dir}/{builder}/{files.version}` and Octo opens it as "
                  f"`tfds.builder(\"{name}\", data_dir=\"{data_dir}\")`: the name is "
                  "`\"<builder>/<config>\"` and `data_dir` the folder that holds `<builder>/`.")
    else:
        naming = (f"It has no builder config, so it lives at `{data_dir}/{builder}/{files.version}` and "
                  f"Octo opens it as `tfds.builder(\"{name}\", data_dir=\"{data_dir}\")`. (A dataset "
                  "built with a config, e.g. `tfds build builders/rldg_mix --config X`, is named "
                  "`\"rldg_mix/X\"` with `data_dir` the folder that holds `rldg_mix/`.)")
    resize = f'{{"primary": ({PRIMARY_SIZE}, {PRIMARY_SIZE}), "wrist": ({WRIST_SIZE}, {WRIST_SIZE})}}'
    if adim == PRETRAINED_ACTION_DIM:
        head = (f"The dataset's actions are {adim}-D, the size of the pretrained action head: it is "
                "fine-tuned as it is.")
    else:
        head = (
            f"The dataset's actions are {adim}-D (xyz + gripper for this toolkit's tasks); "
            f"`{PRETRAINED}`'s action head predicts {PRETRAINED_ACTION_DIM}-D (xyz, rpy, gripper). "
            f"The config's `update_config` builds the head with `action_dim={adim}`: Octo's "
            "`merge_params` copies every pretrained weight whose shape matches (the transformer, the "
            "tokenizers, most of the head) and leaves the head's layers whose shape depends on the "
            "action size freshly initialized; they are learned during fine-tuning (`finetuning_mode` "
            "is `full`; Octo logs them under \"Parameters skipped during model loading\"). The "
            "alternative, keeping the pretrained head: delete `update_config` and add "
            f"`\"max_action_dim\": {PRETRAINED_ACTION_DIM}` to `traj_transform_kwargs` (Octo pads the "
            "actions with zeros and masks the padding out of the loss), but the gripper then sits where "
            "the pretrained head predicts a rotation, so that output must be relearned anyway.")
    return f"""# Octo fine-tuning export of `{files.name}` {files.version}

Dataset: `{files.path}` ({files.num_episodes} episodes: {splits}), read by Octo from disk as it
is (nothing is copied). {naming}

{val_note(files, "Octo", "scripts/finetune.py stops when it builds its validation data")}

## Files
- `octo_dataset_kwargs.json`: the `dataset_kwargs` of `octo.data.dataset.make_single_dataset`.
  `standardize_fn` is a ModuleSpec (`{{"module": "{STANDARDIZE_MODULE}", "name": "standardize",
  "args": [], "kwargs": {{}}}}`): put this folder on `PYTHONPATH`. No `depth_obs_keys` (there is
  no depth camera; all-None depth keys break Octo's training-time image transforms).
- `{STANDARDIZE_MODULE}.py`: maps the gripper from the contract's +1 open / -1 closed to Octo's
  absolute [0, 1] (1 = open); nothing else changes (the dataset already uses Octo's keys).
- `dataset_statistics.json`: action/proprio mean, std, min, max, p01, p99 of the train split, in
  the standardized action space (gripper in [0, 1]); the gripper is not normalized (mask False).
- `octo_finetune_config.py` (+ `.json`): the config of Octo's `scripts/finetune.py`: pretrained
  `{PRETRAINED}`, window {WINDOW}, action horizon {ACTION_HORIZON}, primary camera
  {PRIMARY_SIZE}x{PRIMARY_SIZE}, wrist {WRIST_SIZE}x{WRIST_SIZE}, checkpoints in `{out}/runs`.
- Cameras: `{kwargs['image_obs_keys']}` (a None camera is a padding image Octo masks out).

## 1. Install Octo (its own environment: it pins TensorFlow 2.15 and jax 0.4.20)
```sh
git clone https://github.com/octo-models/octo && cd octo
git checkout {OCTO_COMMIT[:7]}   # the commit this export is tested against (Octo 1.5)
python3.10 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/pip install -r requirements.txt
# (rldg's tests ran Octo's data code with dlimp ad72ce3; Octo's requirements.txt installs dlimp 5edaa46)
# on a GPU: .venv/bin/pip install --upgrade "jax[cuda11_pip]==0.4.20" \\
#   -f https://storage.googleapis.com/jax-releases/jax_cuda_releases.html
```

## 2. Check that Octo reads the data (a minute on a CPU)
```python
import json, sys
sys.path.insert(0, "{out}")
from octo.data.dataset import make_single_dataset

kwargs = json.load(open("{out}/octo_dataset_kwargs.json"))
# Octo before 1.5 (before commit cdee00c, May 2024) takes the function itself:
#   import {STANDARDIZE_MODULE}; kwargs["standardize_fn"] = {STANDARDIZE_MODULE}.standardize
dataset = make_single_dataset(kwargs, train=True,
                              traj_transform_kwargs=dict(window_size={WINDOW}, action_horizon={ACTION_HORIZON}),
                              frame_transform_kwargs=dict(resize_size={resize}))
trajectory = next(dataset.iterator())   # observation/image_primary: [T, {WINDOW}, {PRIMARY_SIZE}, {PRIMARY_SIZE}, 3]
print(trajectory["action"].shape)       # [T, {WINDOW}, {ACTION_HORIZON}, {adim}], normalized
```

## Mixing several exports (as Octo's `make_interleaved_dataset` / OXE mixtures)
`octo_dataset_kwargs.json` holds `make_single_dataset`'s keys. `make_interleaved_dataset` sets
`num_parallel_reads`, `num_parallel_calls` (from its `traj_read_threads` / `traj_transform_threads`)
and `dataset_statistics` (it computes them per dataset) itself and refuses them in a kwargs dict:
drop those three keys from each export's kwargs before mixing.
```python
kwargs_list = []
for export in ["{out}", "path/to/another_export"]:
    kwargs = json.load(open(export + "/octo_dataset_kwargs.json"))
    for key in ("num_parallel_reads", "num_parallel_calls", "dataset_statistics"):
        kwargs.pop(key, None)
    kwargs_list.append(kwargs)
dataset = make_interleaved_dataset(kwargs_list, sample_weights=[1.0, 1.0], train=True,
                                   shuffle_buffer_size=2048, batch_size=64,
                                   traj_transform_kwargs=dict(window_size={WINDOW}, action_horizon={ACTION_HORIZON}),
                                   frame_transform_kwargs=dict(resize_size={resize}))
```
Exports of different action or state sizes also need Octo's `max_action_dim` / `max_proprio_dim`
in `traj_transform_kwargs` (it zero-pads to them); `benchmarks/bench_mixture.py` runs this over 24
rldg exports of different sizes and cameras.

## 3. Fine-tune
```sh
cd octo   # your clone
PYTHONPATH={out} .venv/bin/python scripts/finetune.py --config={out}/octo_finetune_config.py --name=rldg
```
The same from rldg: `rldg finetune octo {files.path} --out {out} --octo-python octo/.venv/bin/python`
(`--octo-repo octo` if the octo package is not imported from its clone). Add `--debug` to
finetune.py to run without Weights & Biases, or set `WANDB_MODE=offline`. Octo before 1.5 read
`standardize_fn` in finetune.py from a `"path/to/file.py:function"` string: the config detects
which Octo imports it, and `--config={out}/octo_finetune_config.py:legacy` forces the old form.

## Actions and the pretrained head
{head}
"""
