"""Parallel, crash-safe, resumable collection runs (`rldg collect`).

`collect(config)` splits episodes 0..N-1 into contiguous ranges, one per worker process (spawn
start method: MuJoCo's EGL context does not survive fork), each worker with its own environment,
seeds (`config.seed + episode index`) and folder `out/worker-XXX/`. Each episode is committed by
`recorder.record_episode` (rename of a finished log), so a killed run leaves exactly its finished
episodes, and running the same command again skips them and records only the rest.
Workers report finished episodes on a queue; `progress` (the CLI's progress bar) is called once per
episode.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing as mp
import os
import queue as queue_lib
import traceback
from pathlib import Path
from typing import Callable, Optional

from collectors.actors import InterventionRule
from collectors.recorder import EpisodeHeader, record_episode
from rldg_data.errors import RldgError

log = logging.getLogger(__name__)

MANIFEST = "collect.json"


@dataclasses.dataclass(frozen=True)
class CollectConfig:
    """One collection run. `policy`: expert | human | checkpoint folder | module:function."""

    task: str
    variant: str
    policy: str
    episodes: int
    out: str
    workers: int = 1
    seed: int = 0
    image_size: int = 64
    wrist: bool = False
    handoff: str = ""  # "", "human-first", "policy-first"
    start_stage: int = 0  # > 0: every episode starts at the hand-off state of this stage
    intervene_with: str = ""  # "", "expert", "human"
    intervene_threshold: float = 0.5
    intervene_steps: int = 10
    env_factory: str = ""  # module:function instead of robot_io.make (any dm_env task)
    demonstrator_factory: str = ""  # module:function instead of robot_io.make_demonstrator
    robot: str = ""  # URL or JSON config of a HIL-SERL robot server: collectors.robot records through it

    def __post_init__(self) -> None:
        if self.episodes <= 0 or self.workers <= 0:
            raise ValueError(f"episodes and workers must be positive, got {self.episodes}, {self.workers}")
        if self.image_size <= 0:
            raise ValueError(f"image_size must be positive, got {self.image_size}")
        if self.start_stage < 0:
            raise ValueError(f"start_stage must be >= 0, got {self.start_stage}")

    def worker_ranges(self) -> list[range]:
        """Contiguous episode-index ranges, one per worker (fewer workers than episodes used)."""
        workers = min(self.workers, self.episodes)
        bounds = [self.episodes * w // workers for w in range(workers + 1)]
        return [range(bounds[w], bounds[w + 1]) for w in range(workers)]


@dataclasses.dataclass
class CollectSummary:
    out: Path
    recorded: int = 0
    skipped: int = 0
    steps: int = 0
    successes: int = 0
    steps_by_source: dict = dataclasses.field(default_factory=dict)


def episode_name(index: int) -> str:
    return f"ep-{index:06d}"


def worker_folder(out: str | os.PathLike, worker: int) -> Path:
    return Path(out) / f"worker-{worker:03d}"


def committed_episodes(out: str | os.PathLike) -> set[int]:
    """Indices of the episodes committed under `out` by any worker folder (partial ones excluded)."""
    return {int(p.name[len("ep-"):]) for p in Path(out).glob("worker-*/ep-*") if p.is_dir()}


def run_worker(config: CollectConfig, worker: int, indices: range, report: Callable[[dict], None]) -> None:
    """Records the episodes `indices` of `config` in `out/worker-XXX/`, calling `report` per episode."""
    from collectors.sources import make_actor, open_env

    folder = worker_folder(config.out, worker)
    folder.mkdir(parents=True, exist_ok=True)
    done = committed_episodes(config.out)  # by any worker: a rerun with another --episodes or
    todo = [i for i in indices if i not in done]  # --workers splits the indices differently
    for i in indices:
        if i not in todo:
            report({"worker": worker, "index": i, "skipped": True})
    if not todo:
        return
    handle = open_env(config.task, config.variant, image_size=config.image_size, wrist=config.wrist,
                      seed=config.seed + todo[0], env_factory=config.env_factory,
                      start_stage=config.start_stage)
    try:
        rule = InterventionRule(config.intervene_threshold, config.intervene_steps)
        actor = make_actor(config.policy, handle, config.seed + worker, handoff=config.handoff,
                           intervene_with=config.intervene_with, rule=rule,
                           demonstrator_factory=config.demonstrator_factory)
        for i in todo:
            seed = config.seed + i
            header = EpisodeHeader(
                episode_id=f"{config.task}/{config.variant}/{actor.policy_id}/seed{seed}",
                task=config.task, variant=config.variant, split=handle.split,
                policy_id=actor.policy_id, seed=seed, language_instruction=handle.language_instruction)
            outcome = record_episode(handle.env, actor, folder, episode_name(i), header, handle.info_fn,
                                     seed_fn=handle.seed_fn)
            report({"worker": worker, "index": i, "skipped": False, "length": outcome.length,
                    "success": outcome.success, "sources": list(outcome.sources)})
    finally:
        handle.close()


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when its parent dies (even by SIGKILL), so a killed
    `rldg collect` never leaves orphans recording on."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers notice at the next queue.put
        pass


def _worker_main(config: CollectConfig, worker: int, indices: range, queue, parent: int) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        return
    try:
        run_worker(config, worker, indices, queue.put)
        queue.put({"worker": worker, "finished": True})
    except BaseException:  # report, then die: the parent turns it into an RldgError
        queue.put({"worker": worker, "error": traceback.format_exc()})


def write_manifest(config: CollectConfig) -> Path:
    """Writes `out/collect.json` (the run's config) atomically, for provenance and resumption."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(dataclasses.asdict(config), indent=2, sort_keys=True))
    os.replace(tmp, out / MANIFEST)
    return out / MANIFEST


def collect(config: CollectConfig, progress: Optional[Callable[[dict], None]] = None,
            in_process: bool = False) -> CollectSummary:
    """Runs a collection in spawned worker processes (or, with `in_process` and one worker, here).

    Workers are fresh interpreters because MuJoCo's EGL renderer segfaults when created in a
    process that has imported TensorFlow (seen with tensorflow-cpu 2.21 + mujoco 3.3), as a
    notebook or test session often has; `in_process` is for environments that do not render.
    """
    write_manifest(config)
    summary = CollectSummary(Path(config.out))

    def on_episode(msg: dict) -> None:
        if msg.get("skipped"):
            summary.skipped += 1
        else:
            summary.recorded += 1
            summary.steps += msg["length"]
            summary.successes += int(msg["success"])
            for s in msg["sources"]:
                summary.steps_by_source[s] = summary.steps_by_source.get(s, 0) + 1
        if progress:
            progress(msg)

    ranges = config.worker_ranges()
    if in_process and len(ranges) == 1:
        run_worker(config, 0, ranges[0], on_episode)
        return summary
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(config, w, r, queue, os.getpid()), daemon=True)
             for w, r in enumerate(ranges)]
    for p in procs:
        p.start()
    running, errors = set(range(len(procs))), []
    try:
        while running:
            try:
                msg = queue.get(timeout=1.0)
            except queue_lib.Empty:
                dead = [w for w in running if not procs[w].is_alive() and procs[w].exitcode != 0]
                for w in dead:
                    errors.append(f"worker {w} died with exit code {procs[w].exitcode}")
                    running.discard(w)
                continue
            if "error" in msg:
                errors.append(f"worker {msg['worker']}:\n{msg['error']}")
                running.discard(msg["worker"])
            elif msg.get("finished"):
                running.discard(msg["worker"])
            else:
                on_episode(msg)
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
    if errors:
        raise RldgError(f"collection into {config.out} failed (finished episodes are kept; run the "
                        f"same command again to resume):\n" + "\n".join(errors))
    return summary
