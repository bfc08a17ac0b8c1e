"""trainers.demo: the RLDG experiment end to end on the simulated suite (`rldg demo`, `make demo`).

Specialists (cached or trained) -> specialist rollouts, human-proxy demos and hand-offs -> datasets
(RL-only, human-only raw and with pauses removed, the RLDG mix: for assembly the hand-offs, cleaned
where humans act) plus the relabeling ablation -> one generalist per task family and dataset ->
evaluation on seen and unseen variants (per stage for assembly) -> report.html, results.json, figures. Every stage is
cached under a key of its inputs, so a rerun skips finished work and Ctrl-C leaves no corrupt cache.
"""
