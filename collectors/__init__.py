"""collectors: recording rollouts into envlogger logs with RLDS-contract metadata.

RL specialist rollouts, human(-proxy) demonstrations, HIL-SERL style interventions and hand-offs
between a demonstrator and a specialist, recorded from any dm_env environment, with per-step
provenance (`source`, `stage`) and parallel, crash-safe workers (`rldg collect`).
"""
