"""Small contract datasets rolled out from robot_io demonstrators (for generalist tests)."""

from __future__ import annotations

import numpy as np

from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps

# No TensorFlow at import: spawned rollout workers import this module, and MuJoCo's EGL renderer
# segfaults in a process that has loaded TensorFlow. `write_dataset` is imported where it is used.


def demo_episode(task: str, variant: str, kind: str, seed: int, image_size: int = 64) -> Episode:
    """One episode of demonstrator `kind` ("expert" | "human") on `variant`, seeded."""
    import robot_io

    env = robot_io.make(task, variant, image_size=image_size, seed=seed)
    try:
        demo = robot_io.make_demonstrator(kind, env, seed=seed)
        obs = env.reset(seed=seed)
        demo.reset(seed)
        images, states, actions, rewards = [obs["image"]], [obs["state"]], [], []
        success = False
        for _ in range(env.max_episode_steps):
            action = np.clip(np.asarray(demo.act(obs), np.float32), -1, 1)
            obs, reward, terminated, truncated, info = env.step(action)
            actions.append(action)
            rewards.append(reward)
            images.append(obs["image"])
            states.append(obs["state"])
            success = bool(info["success"])
            if terminated or truncated:
                break
        actions.append(np.zeros(4, np.float32))
        rewards = [0.0] + rewards  # reward of the step that led into each observation, aligned
        steps = make_steps(images=np.stack(images), states=np.stack(states), actions=np.stack(actions),
                           rewards=np.asarray(rewards[1:] + [0.0], np.float32),
                           language_instruction=env.language_instruction, source=demo.source,
                           terminal=success)
        meta = EpisodeMetadata(episode_id=f"{kind}-{variant}-{seed}", task=task, variant=variant,
                               split=env.split, policy_id=demo.policy_id, success=success,
                               episode_return=float(np.sum(rewards)), length=len(actions), seed=seed)
        return Episode(steps, meta)
    finally:
        env.close()


def _variant_episodes(task, variant, kind, seeds, image_size):
    return [demo_episode(task, variant, kind, s, image_size) for s in seeds]


def demo_dataset(root, name: str, task: str, variants, kind: str, per_variant: int, seed: int = 0,
                 image_size: int = 64):
    """Rolls out in spawned processes (MuJoCo EGL crashes a process that imported TensorFlow)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from rldg_data.io.writer import write_dataset

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = [pool.submit(_variant_episodes, task, v, kind,
                             [seed + 1000 * j + i for i in range(per_variant)], image_size)
                 for j, v in enumerate(variants)]
        episodes = [ep for part in parts for ep in part.result()]
    return write_dataset(episodes, root, name)
