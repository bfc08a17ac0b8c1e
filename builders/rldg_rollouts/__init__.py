"""rldg_rollouts: the RLDS dataset of `rldg collect` logs (see README.md)."""
