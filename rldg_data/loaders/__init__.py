"""Loading contract datasets for training: RLDS -> windows (history, action chunks) -> batches.

`RLDSLoader(paths, LoaderConfig(...))` yields normalized numpy batches from one dataset or a mix,
seeded and deterministic, in bounded memory (episode-level shuffle by record offset plus a small
window buffer) with parallel decoding; `torch_dataset` and `jax_batches` adapt it. Statistics come
from the datasets themselves (`rldg_data.stats.dataset.dataset_statistics`, re-exported here: the toolkit's
one statistics path), and `Normalizer` maps actions back for acting. Names load on first use.
"""

from __future__ import annotations

import importlib

_LAZY = {  # name -> (module, attribute)
    "LoaderConfig": ("rldg_data.loaders.config", "LoaderConfig"),
    "LoaderConfigError": ("rldg_data.loaders.config", "LoaderConfigError"),
    "Normalizer": ("rldg_data.loaders.normalize", "Normalizer"),
    "RLDSLoader": ("rldg_data.loaders.pipeline", "RLDSLoader"),
    "dataset_statistics": ("rldg_data.stats.dataset", "dataset_statistics"),
    "compute_statistics": ("rldg_data.stats.dataset", "dataset_statistics"),  # the former name
    "jax_batches": ("rldg_data.loaders.adapters", "jax_batches"),
    "to_torch": ("rldg_data.loaders.adapters", "to_torch"),
    "torch_dataset": ("rldg_data.loaders.adapters", "torch_dataset"),
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'rldg_data.loaders' has no attribute {name!r}")
