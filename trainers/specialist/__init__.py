"""RL specialists: SAC with demonstrations (RLPD / HIL-SERL style) in JAX, on privileged state.

`train.train_specialist(TrainConfig)` trains one specialist on a `robot_io` task variant and writes
a checkpoint folder; `checkpoint.load_policy(path)` loads it as an `rldg_data.policy.Policy`
(numpy forward pass, deterministic), so collectors roll it out like any demonstrator.
Heavy modules (jax, flax, optax) are imported only by `sac`, `networks` and `train`.
"""
