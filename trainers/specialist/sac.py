"""The SAC learner in JAX: state, jitted update (critic ensemble, actor with BC term, temperature).

One call of `update` runs `rounds` rounds under `lax.scan`; each round makes `utd_ratio` critic
updates (each followed by a Polyak target update) and then one actor and one temperature update, as
HIL-SERL's launcher does. Batches come from `replay.sample_rounds` as numpy arrays shaped
[rounds, utd_ratio, batch, ...]; the `bc_mask` column selects the rows the BC term applies to.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from trainers.specialist.config import SACConfig
from trainers.specialist.networks import Actor, CriticEnsemble

BATCH_KEYS = ("obs", "action", "reward", "next_obs", "done", "mc_return", "is_demo", "bc_mask")


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
    """Networks, optimizers and the jitted update of one SAC agent with fixed sizes.

    `obs_transform` (matrix [obs_dim, F], shift [F]), from `observation_transform`, maps raw
    observations to the features both networks see (normalised, plus relative positions); it is
    affine, so `export_actor` folds it into the actor's first layer and a checkpoint still acts on
    the raw privileged state.
    """

    def __init__(self, config: SACConfig, obs_dim: int, action_dim: int,
                 obs_transform: Optional[tuple[np.ndarray, np.ndarray]] = None) -> None:
        self.config = config
        self.obs_dim, self.action_dim = obs_dim, action_dim
        if obs_transform is None:
            obs_transform = (np.eye(obs_dim, dtype=np.float32), np.zeros(obs_dim, np.float32))
        self.obs_matrix = np.asarray(obs_transform[0], np.float32)
        self.obs_shift = np.asarray(obs_transform[1], np.float32)
        self.feature_dim = int(self.obs_matrix.shape[1])
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
        obs = jnp.zeros((1, self.feature_dim), jnp.float32)
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
        if self.config.mc_lower_bound:  # Q* is at least the return that was actually collected
            target = jnp.maximum(target, batch["mc_return"])
        q = self.critic.apply({"params": critic_params}, batch["obs"], batch["action"])
        loss = ((q - jax.lax.stop_gradient(target)[None]) ** 2).mean()
        return loss, q.mean()

    def _actor_loss(self, actor_params, state: SACState, batch, key):
        action, log_prob, mean = self._sample(actor_params, batch["obs"], key)
        q = self.critic.apply({"params": state.critic_params}, batch["obs"], action).mean(0)
        alpha = jnp.exp(state.log_alpha)
        if self.config.normalize_q:  # TD3+BC: the Q term's scale no longer depends on |Q|
            q = q / jax.lax.stop_gradient(jnp.maximum(jnp.abs(q).mean(), 1e-3))
        sac_loss = (alpha * log_prob - self.config.q_weight * q).mean()
        demo = batch["bc_mask"]
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

    def _features(self, obs):
        return obs @ self.obs_matrix + self.obs_shift

    def _update(self, state: SACState, batches):
        """batches: dict of arrays [rounds, utd_ratio, batch, ...] -> (state, mean metrics)."""
        batches = dict(batches, obs=self._features(batches["obs"]),
                       next_obs=self._features(batches["next_obs"]))
        state, metrics = jax.lax.scan(self._round, state, batches)
        return state, jax.tree_util.tree_map(jnp.mean, metrics)


    def export_actor(self, actor_params) -> dict[str, np.ndarray]:
        """Flat actor parameters that act on raw observations (the feature map folded in)."""
        flat = flatten_params(actor_params)
        kernel, bias = flat["trunk/dense_0/kernel"], flat["trunk/dense_0/bias"]
        flat["trunk/dense_0/kernel"] = (self.obs_matrix.astype(np.float64) @ kernel).astype(np.float32)
        flat["trunk/dense_0/bias"] = (self.obs_shift.astype(np.float64) @ kernel + bias).astype(np.float32)
        return flat


def observation_transform(obs: np.ndarray, relative: bool = True, normalize: bool = True,
                          min_std: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """An affine feature map (matrix [obs_dim, F], shift [F]) fitted on observations `obs` [N, obs_dim].

    relative: with the 17-d privileged layout (robot_io.sim.tasks.base), append the object grasp point
      relative to the hand and the goal point relative to the task point (peg tip to hole entrance):
      the quantities the policy must drive to zero, which a raw-coordinate input only gives as a
      small difference of large numbers.
    normalize: standardise every feature with the mean and std of `obs` (std floored at `min_std`,
      1 cm for positions; constant features such as the level peg's quaternion stay ~0 instead of
      blowing up). Raw positions span only a few cm, so without it the first layer must grow large
      weights before it can tell millimetres apart.
    """
    obs = np.asarray(obs, np.float64)
    dim = obs.shape[1]
    columns = [np.eye(dim)]
    if relative and dim == 17:
        rel = np.zeros((dim, 6))
        for j, (a, b) in enumerate([(4, 0), (5, 1), (6, 2), (11, 14), (12, 15), (13, 16)]):
            rel[a, j], rel[b, j] = 1.0, -1.0
        columns.append(rel)
    matrix = np.concatenate(columns, 1)
    shift = np.zeros(matrix.shape[1])
    if normalize and len(obs):
        feats = obs @ matrix
        mean, std = feats.mean(0), np.maximum(feats.std(0), min_std)
        matrix, shift = matrix / std, -mean / std
    return matrix.astype(np.float32), shift.astype(np.float32)


OFFSET_SCALE = 20.0  # 1 / metres: a 5 cm offset becomes a feature of 1


def offset_transform(obs_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Features of the 17-d privileged layout (robot_io.sim.tasks.base) that say what to do next,
    without where on the table it happens: hand minus object grasp point, task point minus goal
    point (peg tip to hole entrance), hand height, grasp-point height (lifted or not), all scaled by
    OFFSET_SCALE, and the gripper opening. With 20 demonstrations a policy on raw coordinates
    learns each demo's absolute positions (it closed the gripper 5 cm beside the peg); the
    offsets are what the demonstrations have in common.
    """
    if obs_dim != 17:
        from trainers.specialist.config import ConfigError

        raise ConfigError(f"offset features (SACConfig.offset_obs, --obs-features offsets) need robot_io's "
                          f"17-d privileged state, got {obs_dim}-d observations; use raw features")
    columns = []
    for plus, minus in [(0, 4), (1, 5), (2, 6), (14, 11), (15, 12), (16, 13), (2, None), (6, None), (3, None)]:
        column = np.zeros(obs_dim)
        column[plus] = 1.0 if plus == 3 else OFFSET_SCALE
        if minus is not None:
            column[minus] = -OFFSET_SCALE
        columns.append(column)
    matrix = np.stack(columns, 1)
    return matrix.astype(np.float32), np.zeros(matrix.shape[1], np.float32)


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
