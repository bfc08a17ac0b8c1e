"""Loading contract datasets for training: RLDS -> windows (history, action chunks) -> batches.

`RLDSLoader(paths, LoaderConfig(...))` yields normalized numpy batches from one dataset or a mix,
seeded and deterministic, in bounded memory (episode-level shuffle by record offset plus a small
window buffer) with parallel decoding; `torch_dataset` and `jax_batches` adapt it. Statistics come
from the datasets themselves (`dataset_statistics`), and `Normalizer` maps actions back for acting.
Names load on first use, so `rldg_data.loaders.normalize` imports without TensorFlow.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "LoaderConfig": "config", "LoaderConfigError": "config", "Normalizer": "normalize",
    "RLDSLoader": "pipeline", "compute_statistics": "rldg_data.stats.dataset",
    "dataset_statistics": "rldg_data.stats.dataset",
    "jax_batches": "adapters", "to_torch": "adapters", "torch_dataset": "adapters",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name] if "." in _LAZY[name] else f"rldg_data.loaders.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'rldg_data.loaders' has no attribute {name!r}")
