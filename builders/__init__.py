"""builders: TFDS dataset builders, one folder per dataset, each runnable as `tfds build builders/<name>`.

Each folder follows the `tfds new` layout (`<name>_dataset_builder.py`, README.md, CITATIONS.bib,
TAGS.txt, checksums.tsv, a test with dummy data). Builders stay thin: features come from
`rldg_data.contract.spec`, example generation from `rldg_data` code.
"""
