"""Runs Octo's own data pipeline on our Octo exports (inside .venv-interop; not a test module).

    .venv-interop/bin/python tests/interop/octo_check.py JOB.json OUT.json

JOB: {"exports": [{"label": ..., "export": DIR}, ...], "resize": [H, W]}. For each export it runs
`octo.data.dataset.make_single_dataset` with `octo_dataset_kwargs.json` exactly as written, with
train=True and train=False, window 2, action horizon 4 and a resize for every camera key, pulls
every trajectory, and writes what the test compares with our data: per trajectory the normalized
actions [T, window, horizon, dim], current proprio, image shapes, pad masks and instruction. Then it
builds the exported finetune config (`get_config()`) and instantiates its dataset kwargs the way
Octo's scripts/finetune.py does. The checks themselves are in test_octo_interop.py.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys

import numpy as np

WINDOW, HORIZON = 2, 4


def _import_fresh(export: str, module: str):
    """Puts `export` first on sys.path and forgets any module of the same name from another export."""
    sys.modules.pop(module, None)
    sys.path.insert(0, export)
    return importlib.import_module(module)


def _trajectories(make_single_dataset, kwargs, train: bool, resize) -> tuple[list, dict]:
    dataset = make_single_dataset(
        kwargs, train=train,
        traj_transform_kwargs=dict(window_size=WINDOW, action_horizon=HORIZON),
        frame_transform_kwargs=dict(resize_size={k: tuple(resize) for k in kwargs["image_obs_keys"]}))
    out = []
    for traj in dataset.iterator():
        obs = traj["observation"]
        images = {k: [list(v.shape), str(v.dtype), int(v.max()) if v.size else 0]
                  for k, v in obs.items() if k.startswith("image_")}
        out.append({
            "action": np.asarray(traj["action"], np.float64).tolist(),
            "proprio": np.asarray(obs["proprio"][:, -1], np.float64).tolist(),
            "timestep_pad_mask": np.asarray(obs["timestep_pad_mask"]).tolist(),
            "pad_mask_dict": {k: bool(np.any(v)) for k, v in obs.get("pad_mask_dict", {}).items()},
            "images": images,
            "language": traj["task"]["language_instruction"][0].decode(),
            "dataset_name": traj["dataset_name"][0].decode(),
        })
    stats = {k: np.asarray(v).tolist() for k, v in dataset.dataset_statistics["action"].items()}
    return out, stats


def _finetune_config(export: str, make_single_dataset) -> dict:
    """get_config() builds; its dataset kwargs instantiate as in scripts/finetune.py."""
    from ml_collections import ConfigDict
    from octo.utils.spec import ModuleSpec

    spec = importlib.util.spec_from_file_location("octo_finetune_config", f"{export}/octo_finetune_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    dataset = make_single_dataset(config.dataset_kwargs, traj_transform_kwargs=config.traj_transform_kwargs,
                                  frame_transform_kwargs=config.frame_transform_kwargs, train=True)
    first = next(dataset.iterator())
    # finetune.py: config.update(FLAGS.config.get("update_config", ConfigDict())) on the pretrained
    # model's config, whose action head is a 7-D DiffusionActionHead ModuleSpec (octo-small-1.5).
    pretrained = ConfigDict({"model": {"heads": {"action": ModuleSpec.create(
        "octo.model.components.action_heads:DiffusionActionHead", readout_key="readout_action",
        use_map=False, action_horizon=4, action_dim=7, n_diffusion_samples=1, dropout_rate=0.0)}}})
    pretrained.update(config.get("update_config", ConfigDict()))
    legacy = module.get_config("legacy").dataset_kwargs.standardize_fn
    return {"type": type(config).__name__, "first_action_shape": list(first["action"].shape),
            "standardize_fn": config.dataset_kwargs.standardize_fn.to_dict(),
            "takes_module_spec": module.octo_takes_module_spec(),
            "head_kwargs": pretrained.model.heads.action.kwargs.to_dict(), "legacy_standardize_fn": legacy,
            "resize_size": {k: list(v) for k, v in config.frame_transform_kwargs.resize_size.items()}}


def main(job_path: str, out_path: str) -> None:
    from octo.data.dataset import make_single_dataset

    job = json.loads(open(job_path).read())
    results = {}
    for item in job["exports"]:
        export = item["export"]
        _import_fresh(export, "rldg_octo_standardize")
        with open(f"{export}/octo_dataset_kwargs.json") as f:
            kwargs = json.load(f)  # as written: no edits
        result = {}
        result["train"], result["stats"] = _trajectories(make_single_dataset, kwargs, True, job["resize"])
        try:
            result["val"], _ = _trajectories(make_single_dataset, kwargs, False, job["resize"])
        except ValueError as exc:  # no val split and too few episodes for train[95%:]
            result["val"], result["val_error"] = [], str(exc).splitlines()[-1]
        if item.get("finetune_config", True):
            result["finetune_config"] = _finetune_config(export, make_single_dataset)
        results[item["label"]] = result
        sys.path.remove(export)
    with open(out_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(*sys.argv[1:3])
