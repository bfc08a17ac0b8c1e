"""A small Llama-style tokenizer built offline, in place of Llama 2's (no model hub here).

OpenVLA's ActionTokenizer maps each of its 256 action bins to one of the LAST 256 ids of the base
tokenizer's vocabulary (`vocab_size - bin`), decodes them to text for the prompt, and
RLDSBatchTransform tokenizes that prompt again: so the last 256 tokens must each be one piece that
survives decode -> encode unchanged and never merges with a neighbour, as Llama 2's rarely used
single-character pieces do. Built here like Llama 2's fast tokenizer: a BPE model with byte
fallback over Metaspace ("▁") words, `<unk>` `<s>` `</s>` as ids 0-2, the 256 byte pieces, a BPE
vocabulary trained on a few robot-instruction sentences, then 256 CJK characters as the final ids
(in no merge); `<s>` is prepended on encoding; `<PAD>` is added after the vocabulary, as OpenVLA's
processor adds it (so `vocab_size` excludes it). Runs in .venv-interop (tokenizers, transformers).
"""

from __future__ import annotations

import json

ACTION_BINS = 256
SPECIALS = ["<unk>", "<s>", "</s>"]
BYTES = [f"<0x{i:02X}>" for i in range(256)]
FIRST_ACTION_CHAR = 0x4E00  # CJK unified ideographs: single characters no instruction here uses
CORPUS = [
    "In: What action should the robot take to insert the connector?\nOut: ",
    "pick up the red block and place it in the bowl", "open the drawer", "close the gripper",
    "insert the plug into the port", "push the button",
    "move the arm to the left of the plate", "put the cable in the socket", "stack the cups",
]


def build_tokenizer(trained_vocab: int = 600, model_max_length: int = 2048):
    """The tokenizer (a transformers PreTrainedTokenizerFast): vocab_size = trained + 256 action ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    alphabet = [chr(c) for c in range(32, 127)] + ["▁", "\n"]
    trainer = trainers.BpeTrainer(vocab_size=trained_vocab, special_tokens=SPECIALS + BYTES,
                                  initial_alphabet=alphabet, show_progress=False)
    draft = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    draft.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    draft.train_from_iterator(CORPUS, trainer)
    trained = json.loads(draft.to_str())["model"]
    vocab = dict(trained["vocab"])
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in trained["merges"]]
    first_action_id = len(vocab)
    for i in range(ACTION_BINS):
        piece = chr(FIRST_ACTION_CHAR + i)
        assert piece not in vocab, piece
        vocab[piece] = first_action_id + i

    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True,
                                     fuse_unk=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tokenizer.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first"),
                                           decoders.ByteFallback(), decoders.Fuse()])
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                             special_tokens=[("<s>", vocab["<s>"])])
    tokenizer.add_special_tokens(SPECIALS)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", padding_side="right", model_max_length=model_max_length)
    fast.add_special_tokens({"pad_token": "<PAD>"})
    assert fast.vocab_size == len(vocab), (fast.vocab_size, len(vocab))
    return fast


def action_ids(tokenizer) -> range:
    """The ids OpenVLA's ActionTokenizer writes actions as: the last 256 of the vocabulary."""
    return range(tokenizer.vocab_size - ACTION_BINS, tokenizer.vocab_size)
