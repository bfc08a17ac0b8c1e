"""A small local Octo checkpoint, made with Octo's own API, for `rldg finetune octo --pretrained`.

    .venv-interop/bin/python tests/interop/octo_tiny_checkpoint.py OUT [--primary-size 64 ...]

No model hub is reachable here, so Octo's pretrained checkpoints (hf://rail-berkeley/octo-small-1.5)
and the T5 tokenizer/encoder their language conditioning downloads cannot be used in tests. This
script builds the same kind of model as octo-small-1.5, scaled down, with `OctoModel.from_config`
and saves it with `OctoModel.save_pretrained` (orbax params, config.json, example_batch.msgpack,
dataset_statistics.json): exactly what `OctoModel.load_pretrained(OUT)` — and so Octo's
`scripts/finetune.py` with `pretrained_path=OUT` — reads. Like octo-small-1.5: a primary and a
wrist ImageTokenizer over SmallStem16, one "action" readout token, a DiffusionActionHead with a
4-step chunk and 7-D actions (so fine-tuning on 4-D data exercises our export's head update).
Unlike it: no language tokenizer and `text_processor` None (Octo's `process_text` then drops the
instruction), a 2-layer transformer and narrow stems, and randomly initialized weights.

Runs in Octo's Python (.venv-interop); imports nothing of rldg.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def tiny_config(primary: int, wrist: int, action_dim: int, horizon: int, window: int) -> dict:
    """The `config` of a small octo-small-1.5-like model (ModuleSpecs as plain dicts)."""
    from octo.model.components.action_heads import DiffusionActionHead
    from octo.model.components.tokenizers import ImageTokenizer
    from octo.model.components.vit_encoders import SmallStem16
    from octo.utils.spec import ModuleSpec

    stem = ModuleSpec.create(SmallStem16, features=(32, 32, 32, 64), num_features=64)
    return {
        "model": {
            "observation_tokenizers": {
                "primary": ModuleSpec.create(ImageTokenizer, obs_stack_keys=["image_primary"],
                                             task_stack_keys=[], encoder=stem),
                "wrist": ModuleSpec.create(ImageTokenizer, obs_stack_keys=["image_wrist"],
                                           task_stack_keys=[], encoder=stem),
            },
            "task_tokenizers": {},
            "heads": {"action": ModuleSpec.create(
                DiffusionActionHead, readout_key="readout_action", use_map=False,
                action_horizon=horizon, action_dim=action_dim, n_diffusion_samples=1,
                hidden_dim=64, num_blocks=2, diffusion_steps=10)},
            "readouts": {"action": 1},
            "token_embedding_size": 64,
            "transformer_kwargs": {"num_layers": 2, "mlp_dim": 128, "num_attention_heads": 2,
                                   "dropout_rate": 0.0, "attention_dropout_rate": 0.0,
                                   "add_position_embedding": False},
            "max_horizon": 10,
            "use_correct_attention": True,
        },
        "text_processor": None,
        "optimizer": {"frozen_keys": []},
        "window_size": window,
        "rldg_tiny": {"primary_size": primary, "wrist_size": wrist,
                      "note": "random weights, made by tests/interop/octo_tiny_checkpoint.py"},
    }


def example_batch(primary: int, wrist: int, window: int, action_dim: int, horizon: int) -> dict:
    """A batch of one with the keys and shapes Octo's data pipeline gives a model (zeros)."""
    import numpy as np

    mask = np.ones((1, window), bool)
    return {
        "observation": {
            "image_primary": np.zeros((1, window, primary, primary, 3), np.uint8),
            "image_wrist": np.zeros((1, window, wrist, wrist, 3), np.uint8),
            "timestep": np.zeros((1, window), np.int32),
            "timestep_pad_mask": mask,
            "pad_mask_dict": {"image_primary": mask, "image_wrist": mask, "timestep": mask},
        },
        "task": {"pad_mask_dict": {}},
        "action": np.zeros((1, window, horizon, action_dim), np.float32),
        "action_pad_mask": np.ones((1, window, horizon, action_dim), bool),
    }


def make_checkpoint(out: str, primary: int = 64, wrist: int = 32, action_dim: int = 7,
                    horizon: int = 4, window: int = 2, seed: int = 0) -> str:
    """Builds the model with `OctoModel.from_config` and saves it at step 0 in `out`."""
    import jax
    import numpy as np
    from octo.model.octo_model import OctoModel

    config = tiny_config(primary, wrist, action_dim, horizon, window)
    unit = {"mean": np.zeros(action_dim), "std": np.ones(action_dim), "min": -np.ones(action_dim),
            "max": np.ones(action_dim), "p01": -np.ones(action_dim), "p99": np.ones(action_dim)}
    statistics = {"action": unit, "num_transitions": np.array(0), "num_trajectories": np.array(0)}
    model = OctoModel.from_config(config, example_batch(primary, wrist, window, action_dim, horizon),
                                  text_processor=None, rng=jax.random.PRNGKey(seed),
                                  dataset_statistics=statistics)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(0, os.path.abspath(out))
    count = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(model.params))
    return json.dumps({"checkpoint": os.path.abspath(out), "parameters": count})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="checkpoint folder (new or empty)")
    parser.add_argument("--primary-size", type=int, default=64)
    parser.add_argument("--wrist-size", type=int, default=32)
    parser.add_argument("--action-dim", type=int, default=7)
    parser.add_argument("--horizon", type=int, default=4, help="action chunk length")
    parser.add_argument("--window", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if os.path.isdir(args.out) and os.listdir(args.out):
        print(f"{args.out} is not empty: refusing to write a checkpoint into it", file=sys.stderr)
        return 1
    print(make_checkpoint(args.out, args.primary_size, args.wrist_size, args.action_dim, args.horizon,
                          args.window, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
