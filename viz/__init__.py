"""viz: looking at trajectories and datasets.

Episode filmstrips and videos with provenance overlays, dataset composition and action-distribution
figures, `rldg show` / `rldg report`, and notebooks that explore a dataset or compare its sources.
"""
