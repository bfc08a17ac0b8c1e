"""Flax modules of the specialist: LayerNorm MLPs, a critic ensemble and a tanh-Gaussian actor.

Parameter names are fixed (`trunk/dense_0/kernel`, `mean/kernel`, ...) because checkpoints store the
actor as a flat '/'-keyed `.npz` and `checkpoint.NumpyActor` runs the same forward pass without JAX.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp
from flax.linen import initializers

LAYER_NORM_EPS = 1e-6  # flax's default; NumpyActor uses the same


class Trunk(nn.Module):
    """Dense -> LayerNorm -> ReLU per hidden size (LayerNorm keeps high-UTD critics stable, RLPD)."""

    hidden: Sequence[int]

    @nn.compact
    def __call__(self, x):
        for i, size in enumerate(self.hidden):
            x = nn.Dense(size, name=f"dense_{i}")(x)
            x = nn.LayerNorm(epsilon=LAYER_NORM_EPS, name=f"norm_{i}")(x)
            x = nn.relu(x)
        return x


class Critic(nn.Module):
    """Q(s, a) -> [B].

    The output layer starts at zero, so every critic starts at Q = 0: with a sparse reward in [0, 1]
    a randomly initialised head started near -0.9 and the min over two critics kept the bootstrap
    targets biased for ~20k steps, while the actor followed the gradient of that noise.
    """

    hidden: Sequence[int]

    @nn.compact
    def __call__(self, obs, action):
        x = Trunk(self.hidden, name="trunk")(jnp.concatenate([obs, action], -1))
        return nn.Dense(1, kernel_init=initializers.zeros, name="q")(x)[..., 0]


class CriticEnsemble(nn.Module):
    """`num` independent critics (vmapped parameters) -> Q values [num, B]."""

    hidden: Sequence[int]
    num: int

    @nn.compact
    def __call__(self, obs, action):
        ensemble = nn.vmap(Critic, variable_axes={"params": 0}, split_rngs={"params": True},
                           in_axes=None, out_axes=0, axis_size=self.num)
        return ensemble(self.hidden, name="critics")(obs, action)


class Actor(nn.Module):
    """obs -> (mean, log_std) of a Gaussian squashed by tanh into [-1, 1]."""

    hidden: Sequence[int]
    action_dim: int
    log_std_min: float = -5.0
    log_std_max: float = 2.0

    @nn.compact
    def __call__(self, obs):
        x = Trunk(self.hidden, name="trunk")(obs)
        mean = nn.Dense(self.action_dim, name="mean")(x)
        raw = nn.Dense(self.action_dim, name="log_std")(x)
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (jnp.tanh(raw) + 1.0)
        return mean, log_std
