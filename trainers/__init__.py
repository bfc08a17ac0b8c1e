"""trainers: the learning side of RLDG.

RL specialists (SAC/RLPD with demonstrations, in JAX) for narrowly scoped tasks, our own small
generalist policy (torch) trained on any contract dataset, and thin wrappers that hand our datasets
to Octo and OpenVLA fine-tuning in the user's own environments for those projects.
"""
