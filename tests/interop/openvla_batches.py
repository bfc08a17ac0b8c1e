"""Runs OpenVLA's own training-side data path on an OpenVLA export (inside .venv-interop; not a test).

    .venv-interop/bin/python tests/interop/openvla_batches.py JOB.json OUT.json

JOB: {"openvla_src": DIR, "export": DIR, "batches": N, "shuffle_buffer_size": S}. What
vla-scripts/finetune.py builds after loading the model, with the export's own finetune arguments
(data root, dataset name, batch size, image_aug) and OpenVLA's classes (openvla/openvla c8f03f4):
`ActionTokenizer(tokenizer)`, `RLDSBatchTransform(action_tokenizer, tokenizer, image_transform,
prompt_builder_fn=PurePromptBuilder)`, `RLDSDataset(data_root, dataset_name, batch_transform,
resize_resolution=(224, 224), shuffle_buffer_size, image_aug)`, `PaddedCollatorForActionPrediction(
tokenizer.model_max_length, tokenizer.pad_token_id, padding_side="right")` and torch's DataLoader
(num_workers=0). Two stand-ins, as no model hub is reachable and the model stack is not installed:
the tokenizer (tests/interop/openvla_tokenizer.py, a small Llama-style one built offline) and the
image transform (`pixel_values` as OpenVLA's fused DINOv2 + SigLIP processor lays them out: 6 x 224
x 224, ImageNet then [-1, 1] normalization; the real one is PrismaticImageProcessor, which needs
timm). The shuffle buffer is smaller than finetune.py's default 100,000 (a few hundred frames here).
OUT holds, per batch, the tensors' shapes and values that the test checks, plus the action tokens
decoded with `ActionTokenizer.decode_token_ids_to_actions`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGENET = (np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))
SIGLIP = (np.array([0.5, 0.5, 0.5]), np.array([0.5, 0.5, 0.5]))


def image_transform(img):
    """PIL image (224x224 RGB) -> float32 [6, 224, 224]: DINOv2 then SigLIP normalization."""
    import torch

    x = np.asarray(img, np.float64) / 255.0
    parts = [((x - mean) / std).transpose(2, 0, 1) for mean, std in (IMAGENET, SIGLIP)]
    return torch.from_numpy(np.concatenate(parts).astype(np.float32))


def main(job_path: str, out_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    sys.path.insert(0, HERE)
    import openvla_stubs
    from openvla_tokenizer import build_tokenizer

    openvla_stubs.install(job["openvla_src"])
    from torch.utils.data import DataLoader

    from prismatic.models.backbones.llm.prompting import PurePromptBuilder
    from prismatic.util.data_utils import PaddedCollatorForActionPrediction
    from prismatic.vla.action_tokenizer import ActionTokenizer
    from prismatic.vla.datasets import RLDSBatchTransform, RLDSDataset
    from prismatic.vla.datasets.datasets import IGNORE_INDEX

    export = job["export"]
    sys.path.insert(0, export)
    importlib.import_module("openvla_registration")  # as openvla_launch.py does before finetune.py
    argv = json.loads(Path(export, "openvla_finetune_args.json").read_text())
    args = dict(zip(argv[0::2], argv[1::2]))
    tokenizer = build_tokenizer()
    action_tokenizer = ActionTokenizer(tokenizer)
    batch_transform = RLDSBatchTransform(action_tokenizer, tokenizer, image_transform=image_transform,
                                         prompt_builder_fn=PurePromptBuilder)
    start = time.monotonic()
    vla_dataset = RLDSDataset(Path(args["--data_root_dir"]), args["--dataset_name"], batch_transform,
                              resize_resolution=(224, 224), shuffle_buffer_size=job["shuffle_buffer_size"],
                              image_aug=args["--image_aug"] == "True")
    collator = PaddedCollatorForActionPrediction(tokenizer.model_max_length, tokenizer.pad_token_id,
                                                 padding_side="right")
    dataloader = DataLoader(vla_dataset, batch_size=int(args["--batch_size"]), sampler=None,
                            collate_fn=collator, num_workers=0)
    built = time.monotonic() - start
    batches = []
    for batch in dataloader:
        ids, labels = batch["input_ids"].numpy(), batch["labels"].numpy()
        action_mask = labels > action_tokenizer.action_token_begin_idx  # finetune.py's mask
        rows = []
        for row in range(len(ids)):
            tokens = labels[row][action_mask[row]]
            first = int(np.argmax(action_mask[row])) if action_mask[row].any() else len(ids[row])
            rows.append({"decoded": action_tokenizer.decode_token_ids_to_actions(tokens).tolist(),
                         "prompt": tokenizer.decode(ids[row][:first].tolist(), skip_special_tokens=True)})
        batches.append({"input_ids": ids.tolist(), "labels": labels.tolist(),
                        "attention_mask": batch["attention_mask"].numpy().tolist(),
                        "pixel_values": {"shape": list(batch["pixel_values"].shape),
                                         "dtype": str(batch["pixel_values"].dtype),
                                         "min": float(batch["pixel_values"].min()),
                                         "max": float(batch["pixel_values"].max())},
                        "dataset_names": [n.decode() if isinstance(n, bytes) else str(n)
                                          for n in batch["dataset_names"]],
                        "rows": rows})
        if len(batches) == job["batches"]:
            break
    stats = vla_dataset.dataset_statistics[args["--dataset_name"]]["action"]
    result = {"batches": batches, "seconds_build": round(built, 1),
              "seconds_batches": round(time.monotonic() - start - built, 1),
              "ignore_index": IGNORE_INDEX, "vocab_size": tokenizer.vocab_size,
              "pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.bos_token_id,
              "eos_token_id": tokenizer.eos_token_id, "n_bins": action_tokenizer.n_bins,
              "action_token_begin_idx": action_tokenizer.action_token_begin_idx,
              "bins": action_tokenizer.bins.tolist(), "dataset_length": len(vla_dataset),
              "statistics": {k: np.asarray(v).tolist() for k, v in stats.items()}}
    Path(out_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
