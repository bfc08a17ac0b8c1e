"""Runs Octo's own `scripts/finetune.py` unchanged, teeing what it logs to a JSON-lines file.

    OCTO_PYTHON trainers/octo_finetune_runner.py METRICS.jsonl OCTO_REPO/scripts/finetune.py --config=...

Runs in Octo's Python (started by `trainers.octo_launch.launch_octo`), so it imports nothing of rldg.
finetune.py reports its training loss only through `wandb.log` (every `log_interval` steps); with
no network wandb runs disabled, and the loss would be lost. This wraps `wandb.log` to also append
`{"step": ..., "<key>": value, ...}` (scalars only) to METRICS, then runs the script as `__main__`
with its own arguments: the training itself is Octo's code as a user runs it.
"""

import os
import sys

# sys.path[0] is this file's folder, trainers/, whose modules Octo's imports must not see (it held
# an octo.py once, shadowing Octo's package): finetune.py sees the path it has when run directly.
sys.path[0] = ""

import json  # noqa: E402
import runpy  # noqa: E402


def _scalars(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: octo_finetune_runner.py METRICS.jsonl FINETUNE_SCRIPT [ARGS...]")
    metrics, script = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(os.path.dirname(metrics), exist_ok=True)
    import wandb

    def tee(original):
        def log(data, step=None, *args, **kwargs):
            with open(metrics, "a") as f:
                f.write(json.dumps({"step": step, **_scalars(data)}) + "\n")
            return original(data, step, *args, **kwargs)
        return log

    init = wandb.init

    def init_then_tee(*args, **kwargs):
        run = init(*args, **kwargs)
        wandb.log = tee(wandb.log)  # wandb.init rebinds the module's log to its run's
        return run

    wandb.init = init_then_tee
    sys.argv = [script, *sys.argv[3:]]
    sys.path[0] = os.path.dirname(script)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
