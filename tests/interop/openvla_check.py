"""Runs OpenVLA's own RLDS pipeline on our OpenVLA exports (inside .venv-interop; not a test module).

    .venv-interop/bin/python tests/interop/openvla_check.py JOB.json OUT.json

JOB: {"openvla_src": DIR, "exports": [{"label": ..., "export": DIR}, ...]}. OpenVLA's package
`prismatic/__init__.py` imports its model stack (torch, transformers), so empty package modules
with `__path__` set to the source folders stand in for `prismatic`, `prismatic.vla` and
`prismatic.vla.datasets`; the DROID transform's `tensorflow_graphics` import gets an empty module
(nothing else uses it). Everything that reads data is OpenVLA's own code. For each export: import
its `openvla_registration.py` as written, `make_oxe_dataset_kwargs(..., BOUNDS_Q99)`, then
`make_single_dataset` with train=True and False, every trajectory pulled; OUT holds each
trajectory's normalized actions, proprio, instruction and image shape, and OpenVLA's statistics.
"""

from __future__ import annotations

import importlib
import json
import sys
import types

import numpy as np


def _stub_packages(src: str) -> None:
    root = f"{src}/prismatic"
    for name, path in (("prismatic", root), ("prismatic.vla", f"{root}/vla"),
                       ("prismatic.vla.datasets", f"{root}/vla/datasets")):
        module = types.ModuleType(name)
        module.__path__ = [path]
        sys.modules[name] = module
    for name in ("tensorflow_graphics", "tensorflow_graphics.geometry",
                 "tensorflow_graphics.geometry.transformation"):
        sys.modules[name] = types.ModuleType(name)
    sys.path.insert(0, src)


def _load(make_single_dataset, kwargs, train: bool) -> tuple[list, dict]:
    dataset, num_trajectories, statistics = make_single_dataset(
        kwargs, train=train,
        traj_transform_kwargs=dict(window_size=1, future_action_window_size=0),
        frame_transform_kwargs=dict(resize_size=(224, 224)))
    out = []
    for traj in dataset.iterator():
        action = np.asarray(traj["action"], np.float64)
        out.append({"action": action.reshape(len(action), -1, action.shape[-1])[:, 0].tolist(),
                    "proprio": np.asarray(traj["observation"]["proprio"], np.float64).reshape(len(action), -1).tolist(),
                    "image": list(traj["observation"]["image_primary"].shape),
                    "language": traj["task"]["language_instruction"][0].decode()})
    stats = {key: {k: np.asarray(v).tolist() for k, v in statistics[key].items()}
             for key in ("action", "proprio")}
    stats["num_trajectories"] = int(num_trajectories)
    stats["num_transitions"] = int(statistics["num_transitions"])
    return out, stats


def main(job_path: str, out_path: str) -> None:
    job = json.loads(open(job_path).read())
    _stub_packages(job["openvla_src"])
    from prismatic.vla.datasets.rlds.dataset import make_single_dataset
    from prismatic.vla.datasets.rlds.oxe.materialize import make_oxe_dataset_kwargs
    from prismatic.vla.datasets.rlds.utils.data_utils import NormalizationType

    results = {}
    for item in job["exports"]:
        export = item["export"]
        config = json.loads(open(f"{export}/openvla_dataset_config.json").read())
        sys.modules.pop("openvla_registration", None)
        sys.path.insert(0, export)
        importlib.import_module("openvla_registration")  # the file as the export writes it
        kwargs = make_oxe_dataset_kwargs(config["name"], f"{export}/data", load_camera_views=("primary",),
                                         load_proprio=True, load_language=True,
                                         action_proprio_normalization_type=NormalizationType.BOUNDS_Q99)
        result = {"kwargs": {k: v for k, v in kwargs.items() if k in (
            "name", "data_dir", "image_obs_keys", "action_normalization_mask", "absolute_action_mask")}}
        result["train"], result["stats"] = _load(make_single_dataset, kwargs, True)
        try:
            result["val"], _ = _load(make_single_dataset, kwargs, False)
        except ValueError as exc:  # no val split and too few episodes for train[95%:]
            result["val"], result["val_error"] = [], str(exc).splitlines()[-1]
        results[item["label"]] = result
        sys.path.remove(export)
    with open(out_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(*sys.argv[1:3])
