"""trainers.demo: the RLDG experiment end to end on the simulated suite (`rldg demo`, `make demo`).

Specialists (cached or trained) -> specialist rollouts, human-proxy demos and hand-offs -> three
datasets (RL-only, human-only, RLDG mix) plus the relabeling ablation -> one generalist per dataset
-> evaluation on seen and unseen variants -> report.html, results.json and figures. Every stage is
cached under a key of its inputs, so a rerun skips finished work and Ctrl-C leaves no corrupt cache.
"""
