"""Dataset statistics (`dataset_statistics.json`, Octo and OpenVLA layouts) of actions and proprio.

`accumulators` holds the exact, mergeable statistics accumulators and computes a dataset's file;
`beam` wraps them as a Beam CombineFn for the mix pipeline; `dataset` computes the statistics the
training loaders normalize with, over one dataset or several; `cli` is `rldg stats`.
Import from the submodules; this package init re-exports nothing.
"""
