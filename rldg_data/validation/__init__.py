"""Validating a dataset on disk: a summary and every contract violation, located (`rldg validate`).

`validate` reads every record of every split (through the record layer), checks each episode
against the contract (`rldg_data.contract.check`), the shards' framing and lengths, and whether
`dataset_statistics.json` matches the data; `cli` is `rldg validate`. It sits above `io` and
`stats`, which it uses. Import from the submodules; this package init re-exports nothing.
"""
