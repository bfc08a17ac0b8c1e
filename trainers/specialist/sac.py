"""The SAC learner in JAX: state, jitted update (critic ensemble, actor with BC term, temperature).

One call of `update` runs `rounds` rounds under `lax.scan`; each round makes `utd_ratio` critic
updates (each followed by a Polyak target update) and then one actor and one temperature update, as
HIL-SERL's launcher does. Batches come from `replay.sample_rounds` as numpy arrays shaped
[rounds, utd_ratio, batch, ...]; the `is_demo` column selects the rows the BC term applies to.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from trainers.specialist.config import SACConfig
from trainers.specialist.networks import Actor, CriticEnsemble

BATCH_KEYS = ("obs", "action", "reward", "next_obs", "done", "is_demo")


class SACState(NamedTuple):
    actor_params: Any
    critic_params: Any
    target_critic_params: Any
    log_alpha: jax.Array
    actor_opt: Any
    critic_opt: Any
    temp_opt: Any
    rng: jax.Array
    steps: jax.Array


class SAC:
    """Networks, optimizers and the jitted update of one SAC agent with fixed sizes."""

    def __init__(self, config: SACConfig, obs_dim: int, action_dim: int) -> None:
        self.config = config
        self.obs_dim, self.action_dim = obs_dim, action_dim
        self.actor = Actor(config.hidden, action_dim, config.log_std_min, config.log_std_max)
        self.critic = CriticEnsemble(config.hidden, config.num_critics)
        self.actor_tx = optax.adam(config.actor_lr)
        self.critic_tx = optax.adam(config.critic_lr)
        self.temp_tx = optax.adam(config.temp_lr)
        self.target_entropy = (config.target_entropy if config.target_entropy is not None
                               else -action_dim / 2.0)
        self.update = jax.jit(self._update)

    def init(self, seed: int) -> SACState:
        """Fresh parameters and optimizer states (one jitted call: op-by-op init compiles each op)."""
        return jax.jit(self._init)(jax.random.PRNGKey(seed))

    def _init(self, key) -> SACState:
        rng, actor_key, critic_key = jax.random.split(key, 3)
        obs = jnp.zeros((1, self.obs_dim), jnp.float32)
        act = jnp.zeros((1, self.action_dim), jnp.float32)
        actor_params = self.actor.init(actor_key, obs)["params"]
        critic_params = self.critic.init(critic_key, obs, act)["params"]
        log_alpha = jnp.log(jnp.asarray(self.config.init_temperature, jnp.float32))
        return SACState(actor_params, critic_params, critic_params, log_alpha,
                        self.actor_tx.init(actor_params), self.critic_tx.init(critic_params),
                        self.temp_tx.init(log_alpha), rng, jnp.zeros((), jnp.int32))

    # -- losses -------------------------------------------------------------------------------

    def _sample(self, actor_params, obs, key):
        """Reparameterized tanh-Gaussian sample and its log-probability."""
        mean, log_std = self.actor.apply({"params": actor_params}, obs)
        std = jnp.exp(log_std)
        pre = mean + std * jax.random.normal(key, mean.shape)
        log_prob = (-0.5 * ((pre - mean) / std) ** 2 - log_std - 0.5 * jnp.log(2 * jnp.pi)).sum(-1)
        log_prob -= (2.0 * (jnp.log(2.0) - pre - jax.nn.softplus(-2.0 * pre))).sum(-1)
        return jnp.tanh(pre), log_prob, mean

    def _critic_loss(self, critic_params, state: SACState, batch, key):
        next_action, _, _ = self._sample(state.actor_params, batch["next_obs"], key)
        target_q = self.critic.apply({"params": state.target_critic_params}, batch["next_obs"], next_action)
        target = batch["reward"] + self.config.discount * (1.0 - batch["done"]) * target_q.min(0)
        q = self.critic.apply({"params": critic_params}, batch["obs"], batch["action"])
        loss = ((q - jax.lax.stop_gradient(target)[None]) ** 2).mean()
        return loss, q.mean()

    def _actor_loss(self, actor_params, state: SACState, batch, key):
        action, log_prob, mean = self._sample(actor_params, batch["obs"], key)
        q = self.critic.apply({"params": state.critic_params}, batch["obs"], action).mean(0)
        alpha = jnp.exp(state.log_alpha)
        sac_loss = (alpha * log_prob - q).mean()
        demo = batch["is_demo"]
        bc_per_row = ((jnp.tanh(mean) - batch["action"]) ** 2).sum(-1)
        bc_loss = (bc_per_row * demo).sum() / jnp.maximum(demo.sum(), 1.0)
        return sac_loss + self.config.bc_weight * bc_loss, (log_prob.mean(), bc_loss, sac_loss)

    # -- updates ------------------------------------------------------------------------------

    def _critic_step(self, state: SACState, batch):
        rng, key = jax.random.split(state.rng)
        (loss, q_mean), grads = jax.value_and_grad(self._critic_loss, has_aux=True)(
            state.critic_params, state, batch, key)
        updates, critic_opt = self.critic_tx.update(grads, state.critic_opt, state.critic_params)
        critic_params = optax.apply_updates(state.critic_params, updates)
        target = optax.incremental_update(critic_params, state.target_critic_params, self.config.tau)
        return state._replace(critic_params=critic_params, target_critic_params=target,
                              critic_opt=critic_opt, rng=rng), (loss, q_mean)

    def _actor_step(self, state: SACState, batch):
        rng, key = jax.random.split(state.rng)
        (loss, (log_prob, bc_loss, sac_loss)), grads = jax.value_and_grad(self._actor_loss, has_aux=True)(
            state.actor_params, state, batch, key)
        updates, actor_opt = self.actor_tx.update(grads, state.actor_opt, state.actor_params)
        actor_params = optax.apply_updates(state.actor_params, updates)

        def temp_loss(log_alpha):
            return -log_alpha * jax.lax.stop_gradient(log_prob + self.target_entropy)

        temp_grad = jax.grad(temp_loss)(state.log_alpha)
        temp_updates, temp_opt = self.temp_tx.update(temp_grad, state.temp_opt, state.log_alpha)
        log_alpha = optax.apply_updates(state.log_alpha, temp_updates)
        state = state._replace(actor_params=actor_params, actor_opt=actor_opt, temp_opt=temp_opt,
                               log_alpha=log_alpha, rng=rng, steps=state.steps + 1)
        return state, (loss, bc_loss, sac_loss)

    def _round(self, state: SACState, batches):
        state, (critic_losses, q_means) = jax.lax.scan(self._critic_step, state, batches)
        last = jax.tree_util.tree_map(lambda x: x[-1], batches)
        state, (actor_loss, bc_loss, sac_loss) = self._actor_step(state, last)
        return state, {"critic_loss": critic_losses.mean(), "q_mean": q_means.mean(),
                       "actor_loss": actor_loss, "bc_loss": bc_loss, "sac_actor_loss": sac_loss,
                       "alpha": jnp.exp(state.log_alpha)}

    def _update(self, state: SACState, batches):
        """batches: dict of arrays [rounds, utd_ratio, batch, ...] -> (state, mean metrics)."""
        state, metrics = jax.lax.scan(self._round, state, batches)
        return state, jax.tree_util.tree_map(jnp.mean, metrics)


def flatten_params(params, prefix: str = "") -> dict[str, np.ndarray]:
    """A nested param tree -> {'trunk/dense_0/kernel': array, ...} (numpy, float32)."""
    flat = {}
    for key, value in params.items():
        path = f"{prefix}{key}"
        if hasattr(value, "items"):
            flat.update(flatten_params(value, path + "/"))
        else:
            flat[path] = np.asarray(jax.device_get(value), np.float32)
    return flat
