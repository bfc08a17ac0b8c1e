"""viz: looking at trajectories and datasets.

Episode filmstrips and videos with provenance overlays, dataset composition and action-distribution
figures, `rldg show` / `rldg report`, and notebooks that explore a dataset or compare its sources.

Modules: `collect` (one pass over a dataset, no image decoding, into a `DatasetView`),
`dataset_views` (composition, success, lengths, actions, speed profile, smoothness figures),
`episode_views` (filmstrip, overlaid frames, MP4/GIF), `statistics` (the statistics table),
`terminal` (`rldg show`), `report` (`rldg report`: PNGs, card.md, index.html), `browser` (load a
page in headless Chromium and collect console errors), `cli`. Notebooks live in `viz/notebooks/`
and read the dataset named by the RLDG_DATASET environment variable.
"""
