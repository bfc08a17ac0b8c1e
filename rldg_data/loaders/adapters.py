"""Framework adapters of `RLDSLoader`: a torch `IterableDataset` and a JAX batch iterator.

Both only convert the numpy batches (text stays numpy); shuffling, decoding and normalization are
the loader's. With torch `DataLoader(num_workers=n)`, worker i of n reads every n-th episode and
seeds its draws with (seed, i), so the stream is deterministic for a given n.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from rldg_data.loaders.pipeline import RLDSLoader


def _torch_dataset_class():
    import torch

    class TorchWindows(torch.utils.data.IterableDataset):
        """Yields batches (dicts of tensors; `language_instruction` stays a numpy array).

        Use with `torch.utils.data.DataLoader(ds, batch_size=None, num_workers=n)`.
        """

        def __init__(self, loader: RLDSLoader) -> None:
            super().__init__()
            self.loader = loader

        def __iter__(self) -> Iterator[dict]:
            info = torch.utils.data.get_worker_info()
            worker, count = (0, 1) if info is None else (info.id, info.num_workers)
            seed = self.loader.config.seed * 1000 + worker
            for batch in self.loader.batches(seed=seed, shard_of=(worker, count)):
                yield to_torch(batch)

    return TorchWindows


def torch_dataset(loader: RLDSLoader):
    """A torch IterableDataset over `loader`'s batches."""
    return _torch_dataset_class()(loader)


def to_torch(batch: dict) -> dict:
    """numpy batch -> torch tensors (zero-copy where possible); text fields stay numpy."""
    import torch

    return {k: (torch.from_numpy(np.ascontiguousarray(v)) if v.dtype.kind in "biuf" else v)
            for k, v in batch.items()}


def jax_batches(loader: RLDSLoader, prefetch: int = 2) -> Iterator[dict]:
    """`loader`'s batches as jax arrays on the default device (text fields stay numpy).

    Up to `prefetch` batches are transferred ahead, as flax's prefetch_to_device does.
    """
    import collections

    import jax

    queue = collections.deque()
    for batch in loader:
        queue.append({k: (jax.device_put(v) if v.dtype.kind in "biuf" else v) for k, v in batch.items()})
        if len(queue) > prefetch:
            yield queue.popleft()
    while queue:
        yield queue.popleft()
