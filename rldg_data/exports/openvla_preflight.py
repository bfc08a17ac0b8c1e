"""The source of `openvla_preflight.py`, which an OpenVLA export holds beside `openvla_launch.py`.

`rldg finetune openvla --openvla-python PY` runs it in the user's OpenVLA Python before torchrun:
vla-scripts/finetune.py asserts a GPU, then loads the 7B model (downloading ~15 GB when it is not
cached), and only then builds its dataset, so a missing GPU, missing weights or an unregistered
dataset would otherwise surface as torchrun's multi-process traceback after minutes. The check
registers the dataset as the launcher does and resolves it through OpenVLA's own registry
(`OXE_NAMED_MIXTURES`, `get_oxe_dataset_kwargs_and_weights`, as `RLDSDataset` calls it) and TFDS,
looks for the modules finetune.py imports, looks the weights up without any network access
(a local folder, or the Hugging Face cache), and asks torch for a GPU. It prints one JSON line
(`openvla preflight: {...}`) and one `problem: ...` line per problem; exit status 2 if any.
"""

from __future__ import annotations

VLA_PATH = "openvla/openvla-7b"  # finetune.py's default model (a Hugging Face id)
PREFLIGHT = "openvla_preflight.py"
REPORT_PREFIX = "openvla preflight: "
PROBLEM_PREFIX = "problem: "

PREFLIGHT_SOURCE = '''"""Checks what OpenVLA's vla-scripts/finetune.py needs before it loads the model (written by rldg).

    python openvla_preflight.py vla-scripts/finetune.py FINETUNE_ARGS...

Run in OpenVLA's Python from its clone (rldg finetune openvla --openvla-python runs it before
torchrun). Prints one JSON line and one `problem: ...` line per problem; exit status 2 if any.
Nothing is downloaded: the weights are looked up in a local folder or the Hugging Face cache.
"""

import importlib.util
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# what vla-scripts/finetune.py imports (OpenVLA c8f03f4), beside prismatic itself
MODULES = ("torch", "transformers", "peft", "accelerate", "draccus", "timm", "wandb", "tqdm",
           "tensorflow", "tensorflow_datasets", "dlimp")
WEIGHT_FILES = ("config.json", "model.safetensors.index.json")


def _offline():
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _weights(vla_path, problems):
    if os.path.isdir(vla_path):
        missing = [f for f in WEIGHT_FILES if not os.path.isfile(os.path.join(vla_path, f))]
        if missing:
            problems.append(f"--vla_path {vla_path} is a folder without {', '.join(missing)}: "
                            "not a saved OpenVLA model")
            return "incomplete"
        return "local"
    try:
        from huggingface_hub import try_to_load_from_cache
        found = [try_to_load_from_cache(vla_path, f) for f in WEIGHT_FILES]
    except Exception as exc:  # huggingface_hub missing or an invalid repo id
        problems.append(f"cannot look {vla_path} up in the Hugging Face cache ({type(exc).__name__}: {exc})")
        return "unknown"
    if all(isinstance(f, str) for f in found):
        return "cached"
    if _offline():
        problems.append(f"the weights of {vla_path} are not in the Hugging Face cache and HF_HUB_OFFLINE "
                        f"is set: download them where there is network (`huggingface-cli download "
                        f"{vla_path}`, ~15 GB) or pass a local copy as --vla-path")
        return "missing"
    return "download"  # finetune.py's from_pretrained downloads them (~15 GB)


def _dataset(options, problems):
    name, root = options.get("--dataset_name"), options.get("--data_root_dir")
    try:
        import openvla_registration  # noqa: F401  as openvla_launch.py does
        from prismatic.vla.datasets.rlds.oxe import OXE_NAMED_MIXTURES, get_oxe_dataset_kwargs_and_weights
        from prismatic.vla.datasets.rlds.utils.data_utils import NormalizationType
    except Exception as exc:
        problems.append(f"registering {name} with OpenVLA failed: {type(exc).__name__}: {exc}")
        return {}
    mixture = OXE_NAMED_MIXTURES.get(name, [(name, 1.0)])  # RLDSDataset's lookup
    kwargs, weights = get_oxe_dataset_kwargs_and_weights(
        root, mixture, load_camera_views=("primary",), load_depth=False, load_proprio=False,
        load_language=True, action_proprio_normalization_type=NormalizationType.BOUNDS_Q99)
    report = {"mixture": [list(m) for m in mixture], "weights": weights,
              "kwargs": [{k: (v.__name__ if callable(v) else v) for k, v in kw.items()
                          if k in ("name", "data_dir", "image_obs_keys", "language_key", "standardize_fn",
                                   "action_normalization_mask", "absolute_action_mask")} for kw in kwargs]}
    if [kw["name"] for kw in kwargs] != [name]:
        problems.append(f"OpenVLA's registry does not resolve {name} (mixture {mixture}, resolved "
                        f"{[kw['name'] for kw in kwargs]})")
        return report
    try:
        import tensorflow_datasets as tfds
        info = tfds.builder(name, data_dir=root).info
        report["splits"] = {split: info.splits[split].num_examples for split in info.splits}
    except Exception as exc:
        problems.append(f"TFDS cannot open {name} in {root}: {type(exc).__name__}: {exc}")
    return report


def main(argv):
    script, args = argv[0], argv[1:]
    options = dict(zip(args[0::2], args[1::2]))
    problems = []
    if not os.path.isfile(script):
        problems.append(f"OpenVLA's fine-tuning script {script} is not there (run from an openvla clone)")
    missing = [m for m in MODULES if importlib.util.find_spec(m) is None]
    if missing:
        problems.append(f"this Python lacks {', '.join(missing)} (finetune.py imports them): "
                        "install OpenVLA into it (pip install -e OPENVLA_CLONE)")
    report = {"script": os.path.abspath(script), "python": sys.executable, "missing_modules": missing,
              "dataset": _dataset(options, problems)}
    report["vla_path"] = options.get("--vla_path")
    report["weights"] = _weights(report["vla_path"], problems)
    report["cuda"] = False
    if importlib.util.find_spec("torch") is not None:
        import torch
        report["cuda"] = bool(torch.cuda.is_available())
    if not report["cuda"]:
        problems.append("torch sees no CUDA GPU: finetune.py asserts one (LoRA at batch size 16 needs ~72 GB)")
    print("openvla preflight: " + json.dumps(report), flush=True)
    for problem in problems:
        print("problem: " + problem, flush=True)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''
