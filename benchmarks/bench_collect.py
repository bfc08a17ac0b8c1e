"""Collector benchmark: envlogger recording overhead per step, and the builder's example speed.

1. Recording overhead: robot_io's scripted expert on a task with 64x64 images, the same seeded
   episodes stepped twice, alternating: plain (dm_env env + actor, nothing recorded) and recorded
   (`collectors.recorder.record_episode`: envlogger Riegeli log, per-step provenance, atomic
   commit). Prints ms a step for both and the overhead ratio (goal: under 10% of a step).
2. Builder examples: the TFDS encoding of the same episodes in the form `collectors.to_rlds`
   yields (columnar arrays, frames already JPEG) vs a plain generator's form (a list of per-step
   dicts with numpy frames, TFDS encodes every frame), as steps/s of
   `features.encode_example` + serialization (what `tfds build` does per example).
Peak memory: ru_maxrss.

    MUJOCO_GL=egl .venv/bin/python benchmarks/bench_collect.py [--episodes 10] [--task insertion]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collectors.recorder import EpisodeHeader, record_episode  # noqa: E402
from collectors.sources import make_actor, open_env  # noqa: E402


def plain_episode(handle, actor, seed: int) -> int:
    handle.seed_fn(seed)
    actor.reset(seed)
    ts, stage, steps = handle.env.reset(), 0, 0
    while not ts.last():
        action, _ = actor.act(ts.observation, stage)
        ts = handle.env.step(action)
        stage = int(handle.info_fn(handle.env).get("stage", 0))
        steps += 1
    return steps + 1


class ReplayEnv:
    """A dm_env stand-in that replays recorded timesteps (no physics, no rendering), so timing a
    recorded episode on it measures envlogger's cost alone, free of the noise of the simulator."""

    def __init__(self, env, timesteps, infos):
        self._env, self._timesteps, self._infos = env, timesteps, infos
        self.last_info = {}

    def reset(self):
        self._i = 0
        self.last_info = self._infos[0]
        return self._timesteps[0]

    def step(self, action):
        self._i += 1
        self.last_info = self._infos[self._i]
        return self._timesteps[self._i]

    def __getattr__(self, name):
        return getattr(self._env, name)

    def close(self):
        pass


class ReplayActor:
    policy_id = "replay"

    def __init__(self, actions):
        self.actions = actions

    def reset(self, seed=None):
        self._i = 0

    def act(self, obs, stage):
        self._i += 1
        return self.actions[self._i - 1], "scripted"


def capture_episode(handle, actor, seed: int):
    handle.seed_fn(seed)
    actor.reset(seed)
    ts, stage = handle.env.reset(), 0
    timesteps, infos, actions = [ts], [{"success": False, "stage": 0}], []
    while not ts.last():
        action, _ = actor.act(ts.observation, stage)
        ts = handle.env.step(action)
        stage = int(handle.info_fn(handle.env).get("stage", 0))
        timesteps.append(ts)
        infos.append(dict(handle.info_fn(handle.env)))
        actions.append(action)
    return timesteps, infos, actions


def bench_recording(task: str, variant: str, episodes: int, image_size: int, out: Path) -> None:
    handle = open_env(task, variant, image_size=image_size, wrist=False, seed=0)
    actor = make_actor("expert", handle, 0)
    plain_t = rec_t = 0.0
    plain_n = rec_n = 0
    for i in range(episodes + 1):
        t = time.perf_counter()
        n = plain_episode(handle, actor, i)
        dt_plain = time.perf_counter() - t
        header = EpisodeHeader(f"bench/{i}", task, variant, handle.split, actor.policy_id, i,
                               handle.language_instruction)
        t = time.perf_counter()
        outcome = record_episode(handle.env, actor, out, f"ep-{i:06d}", header, handle.info_fn,
                                 seed_fn=handle.seed_fn)
        dt_rec = time.perf_counter() - t
        if i == 0:
            continue  # warm-up (renderer, envlogger import)
        plain_t, plain_n, rec_t, rec_n = plain_t + dt_plain, plain_n + n, rec_t + dt_rec, rec_n + outcome.length
    # envlogger's cost alone: record replayed timesteps (no simulator in the loop)
    log_t = log_n = 0
    for i in range(1, episodes + 1):
        timesteps, infos, actions = capture_episode(handle, actor, i)
        replay = ReplayEnv(handle.env, timesteps, infos)
        header = EpisodeHeader(f"replay/{i}", task, variant, handle.split, "replay", i, "")
        t = time.perf_counter()
        record_episode(replay, ReplayActor(actions), out / "replay", f"ep-{i:06d}", header,
                       lambda e: e.last_info, seed_fn=lambda s: None)
        log_t, log_n = log_t + time.perf_counter() - t, log_n + len(timesteps)
    handle.close()
    plain_ms, rec_ms = 1000 * plain_t / plain_n, 1000 * rec_t / rec_n
    log_ms = 1000 * log_t / log_n
    print(f"recording, {task}/{variant}, {image_size}x{image_size} images, {episodes} episodes "
          f"({rec_n} steps recorded)")
    print(f"  plain step          {plain_ms:7.3f} ms/step")
    print(f"  recorded step       {rec_ms:7.3f} ms/step")
    print(f"  overhead            {rec_ms - plain_ms:7.3f} ms/step = {(rec_ms / plain_ms - 1):.1%} of a step "
          f"(difference of two noisy timings)")
    print(f"  recording alone     {log_ms:7.3f} ms/step = {log_ms / plain_ms:.1%} of a plain step "
          f"(replayed timesteps, no simulator)")


def bench_examples(paths: list[Path]) -> None:
    import tensorflow_datasets as tfds  # noqa: F401  (after rendering: see collectors.collect)

    from collectors.logs import read_episode
    from rldg_data.io.codec import features_dict as episode_to_example
    from rldg_data.contract import spec, tfds_json

    t = time.perf_counter()
    episodes = [read_episode(p) for p in paths]
    read_s = time.perf_counter() - t
    steps = sum(len(e) for e in episodes)
    features = tfds_json.features_for(episodes[0].spec())

    def plain_form(ep):
        per_step = []
        for i in range(len(ep)):
            step = {}
            for name, values in ep.steps.items():
                node = step
                *parents, leaf = spec.split_path(name)
                for parent in parents:
                    node = node.setdefault(parent, {})
                node[leaf] = values[i] if values.dtype.kind != "U" else str(values[i])
            per_step.append(step)
        return {spec.STEPS: per_step, spec.EPISODE_METADATA: ep.metadata.to_dict()}

    rates = {}
    for name, form in (("plain generator (per-step dicts, numpy frames)", plain_form),
                       ("collectors.to_rlds (columnar, JPEG bytes)", episode_to_example)):
        t = time.perf_counter()
        for ep in episodes:
            features.serialize_example(form(ep))  # encode_example + tf.train.Example bytes
        rates[name] = steps / (time.perf_counter() - t)
    print(f"builder examples, {len(episodes)} episodes, {steps} steps "
          f"(reading the logs: {steps / read_s:.0f} steps/s)")
    base = None
    for name, rate in rates.items():
        base = base or rate
        print(f"  {name:50s} {rate:8.0f} steps/s  ({rate / base:.2f}x)")
    print(f"peak RSS (examples process) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--task", default="insertion")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--examples-from", help=argparse.SUPPRESS)  # part 2, in a fresh process
    args = parser.parse_args()
    if args.examples_from:
        bench_examples(sorted(p for p in Path(args.examples_from).iterdir() if p.name.startswith("ep-")))
        return
    import subprocess

    import robot_io

    variant = robot_io.variants(args.task, "seen")[0]
    with tempfile.TemporaryDirectory() as tmp:
        bench_recording(args.task, variant, args.episodes, args.image_size, Path(tmp))
        # TensorFlow and MuJoCo's EGL renderer crash each other in one process, either order
        subprocess.run([sys.executable, __file__, "--examples-from", tmp], check=True)
    print(f"peak RSS (recording process) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
