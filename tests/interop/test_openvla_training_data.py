"""OpenVLA's own training-side data path (openvla/openvla c8f03f4, in .venv-interop) over our OpenVLA
export of a demo-shaped RLDG mix: what vla-scripts/finetune.py builds after loading the model —
`ActionTokenizer`, `RLDSBatchTransform` with `PurePromptBuilder`, `RLDSDataset` (OXE registry,
BOUNDS_Q99, its own statistics) and `PaddedCollatorForActionPrediction` under torch's DataLoader,
with the export's finetune arguments (tests/interop/openvla_batches.py). The tokenizer is a small
Llama-style one built offline (tests/interop/openvla_tokenizer.py), its 256 action ids at the end
of the vocabulary as OpenVLA's ActionTokenizer assumes.

Checked on >= 10 batches: shapes, right padding (pad id, attention mask, IGNORE_INDEX labels), the
labels OpenVLA trains on (the 7 action tokens and </s>, everything else IGNORE_INDEX), and the action
tokens decoded back (`decode_token_ids_to_actions`) to our actions, normalized as OpenVLA
normalizes them (BOUNDS_Q99 with its q01/q99, gripper [0, 1] unnormalized), within half the
tokenizer's bin width, for a step of an episode with the instruction of that row's prompt.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from rldg_data.contract import spec
from tests.interop import side_env
from tests.interop.conftest import BIN, run, run_consumer
from tests.interop.expected import episodes_by_split, unit_gripper

BATCHES = 10
PROMPT = re.compile(r"^In: What action should the robot take to (.+)\?\nOut:\s*$")


@pytest.fixture(scope="session")
def demo_openvla_export(demo_mix, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_openvla") / "export"
    run([BIN / "rldg", "finetune", "openvla", demo_mix, "--out", out])
    return out


@pytest.fixture(scope="module")
def batches(side_python, demo_openvla_export, tmp_path_factory) -> dict:
    job = {"openvla_src": str(side_env.src_dir() / "openvla"), "export": str(demo_openvla_export),
           "batches": BATCHES, "shuffle_buffer_size": 500}
    return run_consumer(side_python, "openvla_batches.py", job, tmp_path_factory.mktemp("openvla_batches"))


def _bounds_q99(actions: np.ndarray, stats: dict) -> np.ndarray:
    """OpenVLA's BOUNDS_Q99 normalization (prismatic/vla/datasets/rlds/utils/data_utils.py), in numpy."""
    q01, q99 = np.array(stats["q01"]), np.array(stats["q99"])
    out = np.where(stats["mask"], np.clip(2 * (actions - q01) / (q99 - q01 + 1e-8) - 1, -1, 1), actions)
    return np.where(np.array(stats["min"]) == np.array(stats["max"]), 0.0, out)


def _by_instruction(export, stats) -> dict[str, np.ndarray]:
    """Every train step's action of the export (RLDSDataset(train=True) reads the train split),
    normalized as OpenVLA does, grouped by its episode's instruction (lower case, as
    RLDSBatchTransform puts it in the prompt)."""
    name = next((export / "data").iterdir()).name
    grouped: dict[str, list] = {}
    for split, episodes in episodes_by_split(export / "data" / name / "1.0.0").items():
        if split != "train":
            continue
        for ep in episodes:
            language = ep.steps[spec.LANGUAGE_INSTRUCTION][0]
            language = (language.decode() if isinstance(language, bytes) else str(language)).lower()
            grouped.setdefault(language, []).append(_bounds_q99(unit_gripper(ep.steps[spec.ACTION]), stats))
    return {k: np.concatenate(v) for k, v in grouped.items()}


@pytest.mark.slow
def test_openvla_batches_are_well_formed_and_decode_to_our_actions(batches, demo_openvla_export):
    got = batches["batches"]
    assert len(got) == BATCHES
    ignore, pad, eos, bos = (batches[k] for k in ("ignore_index", "pad_token_id", "eos_token_id", "bos_token_id"))
    vocab, n_bins = batches["vocab_size"], batches["n_bins"]
    assert n_bins == 256 and batches["action_token_begin_idx"] == vocab - 257 and pad >= vocab  # <PAD> added after
    half_bin = (batches["bins"][1] - batches["bins"][0]) / 2
    steps = _by_instruction(demo_openvla_export, batches["statistics"])
    assert len(steps) == 2  # vga and usb_c
    lengths = set()
    for batch in got:
        ids, labels, mask = (np.array(batch[k]) for k in ("input_ids", "labels", "attention_mask"))
        assert ids.shape == labels.shape == mask.shape and ids.shape[0] == 16  # the export's --batch_size
        assert batch["pixel_values"]["shape"] == [16, 6, 224, 224] and batch["pixel_values"]["dtype"] == "torch.float32"
        assert set(batch["dataset_names"]) == {"demo_mix_openvla"}
        for row in range(len(ids)):
            length = int(mask[row].sum())
            lengths.add(length)
            np.testing.assert_array_equal(mask[row], np.arange(ids.shape[1]) < length)  # right padding only
            assert np.all(ids[row, length:] == pad) and np.all(labels[row, length:] == ignore)
            assert ids[row, 0] == bos and ids[row, length - 1] == eos and pad not in ids[row, :length]
            # OpenVLA's loss sees the 7 action tokens and </s>; the prompt is IGNORE_INDEX
            np.testing.assert_array_equal(labels[row, length - 8:length], ids[row, length - 8:length])
            assert np.all(labels[row, :length - 8] == ignore)
            action_ids = ids[row, length - 8:length - 1]
            assert np.all((action_ids >= vocab - n_bins) & (action_ids < vocab)), action_ids  # the last 256 ids
            assert not np.any((ids[row, :length - 8] >= vocab - n_bins) & (ids[row, :length - 8] < vocab))
            decoded = np.array(batch["rows"][row]["decoded"])
            assert decoded.shape == (7,)
            instruction = PROMPT.match(batch["rows"][row]["prompt"])
            assert instruction, batch["rows"][row]["prompt"]
            candidates = steps[instruction.group(1)]
            error = np.abs(candidates - decoded).max(axis=1)
            assert error.min() <= half_bin + 1e-6, (instruction.group(1), decoded, candidates[error.argmin()])
    assert len(lengths) > 1  # the two instructions tokenize to different lengths: padding was exercised
