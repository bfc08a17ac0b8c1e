"""Exports of contract datasets to other tools' formats and trainers, each proven by their own code.

`lerobot` writes a LeRobot v3.0 folder as LeRobot's own writer lays it out (`lerobot_stats` its
meta/stats.json; `rldg export lerobot` is `cli`); `octo` writes what Octo's `make_single_dataset`
and `scripts/finetune.py` need (dataset kwargs, statistics, standardize function, config;
`octo_readme` its README); `openvla` writes the dataset and registration OpenVLA's RLDS loader
needs. Launching the other tools' training in their own Python is `trainers`' job, not this one's.
Import from the submodules; this package init re-exports nothing.
"""
