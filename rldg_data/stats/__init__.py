"""Dataset statistics (`dataset_statistics.json`, Octo and OpenVLA layouts) of actions and proprio.

The toolkit's one statistics implementation: `accumulators` holds the exact, mergeable
accumulators and what they count (RLDS: no action at the last step); `beam` wraps them as a Beam
CombineFn for the mix pipeline; `dataset` computes the statistics of datasets on disk (one or
several merged, split-aware, read-only) for the loaders, `rldg stats` and the report; `cli` is
`rldg stats`.
Import from the submodules; this package init re-exports nothing.
"""
