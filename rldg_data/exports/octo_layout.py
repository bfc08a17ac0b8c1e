"""What Octo expects of a fine-tuning dataset: image sizes, horizon, module names, statistics keys.

Shared by the export (`exports/octo.py`) and the README it writes (`exports/octo_readme.py`).
"""

PRIMARY_SIZE, WRIST_SIZE, ACTION_HORIZON, WINDOW = 256, 128, 4, 2
STANDARDIZE_MODULE = "rldg_octo_standardize"
STANDARDIZE_FN = f"{STANDARDIZE_MODULE}:standardize"
# Octo >= 1.5 (octo-models/octo cdee00c, May 2024) instantiates standardize_fn as a ModuleSpec.
STANDARDIZE_SPEC = {"module": STANDARDIZE_MODULE, "name": "standardize", "args": [], "kwargs": {}}
PRETRAINED_ACTION_DIM = 7  # octo-small/base-1.5's action head: xyz, rpy, gripper
OCTO_STAT_KEYS = ("mean", "std", "max", "min", "p99", "p01")
PRETRAINED = "hf://rail-berkeley/octo-small-1.5"


def unstandardize_action(action):
    """Inverse of the export's standardize function on actions (numpy, last axis): Octo's absolute
    gripper in [0, 1] (1 = open) back to the contract's +1 open / -1 closed. Used where an Octo
    policy's (unnormalized) actions reach our simulator."""
    out = action.copy()
    out[..., -1] = out[..., -1] * 2.0 - 1.0
    return out
