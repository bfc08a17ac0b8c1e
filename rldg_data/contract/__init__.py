"""The RLDS contract of rldg-data: what a dataset on disk must be, and the checks that say so.

`spec` names the features, dtypes, shapes and metadata every dataset carries; `episode` holds one
episode in memory (numpy) and builds it; `check` lists an episode's violations of the contract;
`tfds_json` writes and reads the features in TFDS's own JSON layout. Summarizing a dataset on disk
is `rldg_data.validation` (`rldg validate`). Import from the submodules; this package init re-exports nothing.
"""
