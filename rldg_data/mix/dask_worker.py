"""Dask worker preload for mixes: `dask worker --preload rldg_data.mix.dask_worker SCHEDULER`.

A Dask worker is long-lived, but it imports a module when the first task needs it: without a
preload, the first mix on a fresh worker pays for Apache Beam, its DaskRunner evaluators (dask.bag,
pandas, pyarrow) and the record layer (~2 CPU-s per worker, as much as the build of ~150k steps)
inside the mix. With it, the worker imports them once when it starts, as the in-process runner's
driver has before it runs. It also undoes the fixed malloc thresholds the Dask nanny starts workers
with (`rldg_data.mix.runner.malloc`; the mix's DoFns do that too, in `setup`, for workers started without
this preload).
"""

from __future__ import annotations

import apache_beam.runners.dask.transform_evaluator  # noqa: F401  (the task functions' module)

import rldg_data.mix.pipeline  # noqa: F401  (the DoFns, record layer and statistics)
from rldg_data.mix.runner.malloc import undo_fixed_malloc_thresholds

undo_fixed_malloc_thresholds()
