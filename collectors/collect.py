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
import hashlib
import json
import logging
import multiprocessing as mp
import os
import queue as queue_lib
import traceback
from pathlib import Path
from typing import Callable, Optional

from collectors.actors import InterventionRule
from collectors.logs import read_episode
from collectors.recorder import EpisodeHeader, record_episode
from rldg_data.errors import RldgError
from rldg_data.io.atomic import write_json_atomic
from rldg_data.io.locks import folder_lock
from rldg_data.io.outputs import claim_work_folder
from rldg_data.io.space import out_of_space, space_errors, space_reason

log = logging.getLogger(__name__)

MANIFEST = "collect.json"
COMMAND = "rldg collect"


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
        if self.episodes <= 0:
            raise RldgError(f"--episodes must be at least 1, got {self.episodes}")
        if self.workers <= 0:
            raise RldgError(f"--workers must be at least 1, got {self.workers}")
        if self.image_size <= 0:
            raise RldgError(f"--image-size must be positive, got {self.image_size}")
        if self.start_stage < 0:
            raise RldgError(f"--start-stage must be >= 0, got {self.start_stage}")

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
    steps: int = 0  # RLDS steps of the recorded episodes (T each, the final observation included)
    transitions: int = 0  # steps with an action (T - 1 each), what `rldg stats` counts
    successes: int = 0
    steps_by_source: dict = dataclasses.field(default_factory=dict)  # steps by their source label

    def folder_outcomes(self) -> tuple[int, int]:
        """(episodes, successes) of every committed episode in the log folder, this run's and
        earlier runs' (a resumed collect reports the whole folder, not only what it added)."""
        from collectors.recorder import OUTCOME_FILE

        episodes = successes = 0
        for path in sorted(Path(self.out).glob(f"worker-*/ep-*/{OUTCOME_FILE}")):
            try:
                successes += bool(json.loads(path.read_text()).get("success"))
            except (OSError, ValueError):
                continue  # a damaged outcome file: `tfds build` names it
            episodes += 1
        return episodes, successes

    def add_episode(self, length: int, success: bool, sources) -> None:
        """Counts one recorded episode as `rldg validate` counts the built dataset: `length` RLDS
        steps, one transition per acting step (`sources`, T - 1 labels), and the final step
        carrying the last acting step's source label (collectors/logs.py)."""
        sources = list(sources)
        self.recorded += 1
        self.steps += length
        self.transitions += len(sources)
        self.successes += int(success)
        for s in sources + sources[-1:]:
            self.steps_by_source[s] = self.steps_by_source.get(s, 0) + 1


def episode_name(index: int) -> str:
    return f"ep-{index:06d}"


def worker_folder(out: str | os.PathLike, worker: int) -> Path:
    return Path(out) / f"worker-{worker:03d}"


def committed_episodes(out: str | os.PathLike) -> set[int]:
    """Indices of the episodes committed under `out` by any worker folder (partial ones excluded)."""
    return {int(p.name[len("ep-"):]) for p in Path(out).glob("worker-*/ep-*") if p.is_dir()}


# Keys that say what an episode is: a log folder holds episodes of one value of each. The others
# (how many episodes, how many workers, where) may change between runs into the same folder.
RUN_ONLY_KEYS = ("episodes", "workers", "out", "rate_hz")  # rate_hz: recorded beside, not a setting


def config_identity(config: CollectConfig | dict) -> dict:
    """The configuration keys that define a run's episodes (all but RUN_ONLY_KEYS)."""
    values = dataclasses.asdict(config) if isinstance(config, CollectConfig) else dict(config)
    return {k: v for k, v in values.items() if k not in RUN_ONLY_KEYS}


def read_manifest(out: str | os.PathLike) -> Optional[dict]:
    """The `collect.json` of a log folder (None if it has none); unreadable is an RldgError."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RldgError(f"{path} is unreadable ({exc}); it describes the episodes in {out}") from None


def check_config(config: CollectConfig) -> None:
    """Checks that the task, variant, policy and factories of `config` exist, before any worker
    starts: a typo is a one-line RldgError, not a worker's traceback."""
    from collectors.sources import DEMONSTRATORS, HANDOFFS, load_factory

    if config.env_factory:
        load_factory(config.env_factory)
        if config.start_stage:
            raise RldgError("--start-stage is only supported for robot_io tasks, not with an env factory")
    else:
        from robot_io.sim.registry import variant_info

        variant_info(config.task, config.variant)  # names the known tasks / variants
    if config.demonstrator_factory:
        load_factory(config.demonstrator_factory)
    policy = config.policy
    if policy not in DEMONSTRATORS and not Path(policy).is_dir():
        if ":" not in policy:
            raise RldgError(f"--policy {policy!r} is neither expert, human, an existing checkpoint "
                            f"folder nor a 'module:function' factory (see rldg collect --list)")
        load_factory(policy)
    if config.handoff not in HANDOFFS:
        raise RldgError(f"--handoff {config.handoff!r} is not one of {', '.join(h for h in HANDOFFS if h)}")
    if config.intervene_with and config.intervene_with not in DEMONSTRATORS:
        raise RldgError(f"--intervene-with {config.intervene_with!r} is not one of {', '.join(DEMONSTRATORS)}")
    if config.handoff and config.intervene_with:
        raise RldgError("a hand-off and interventions in one run are not supported; pick one")


def check_log_folder(config: CollectConfig, append: bool = False) -> CollectConfig:
    """The configuration to record: `config` itself when `config.out` is new or holds episodes of
    the same configuration (a rerun resumes or tops up). A folder of another configuration is
    refused with an RldgError naming the differing keys, unless `append`: then the run records
    into `out/run-<hash>/` beside them (its own collect.json), each episode keeping its own
    configuration; the same appending command later resumes that subfolder."""
    manifest = read_manifest(config.out)
    if manifest is None:
        return config
    old, new = config_identity(manifest), config_identity(config)
    differing = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if not differing:
        return config
    if append:
        digest = hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest()[:8]
        return check_log_folder(dataclasses.replace(config, out=str(Path(config.out) / f"run-{digest}")))
    changes = "; ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in differing)
    raise RldgError(f"{config.out} holds episodes of another configuration ({changes}): a log folder "
                    f"must describe every episode in it. Use another --out, or --append to record "
                    f"this configuration into a subfolder of {config.out}")


def prepare_run(config: CollectConfig, append: bool = False) -> CollectConfig:
    """Every check before a collection starts (arguments, then the log folder); returns the
    configuration to record. One function, so every way of starting a collection checks the same."""
    check_config(config)
    claim_work_folder(config.out, COMMAND, MANIFEST)
    return check_log_folder(config, append)


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
                                     seed_fn=handle.seed_fn, verify=log_steps)
            report({"worker": worker, "index": i, "skipped": False, "length": outcome.length,
                    "success": outcome.success, "sources": list(outcome.sources)})
    finally:
        handle.close()


def log_steps(folder: Path) -> int:
    """Steps of the episode log in `folder`, read back whole (the recorder's check before a commit)."""
    return len(read_episode(folder))


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
    except BaseException as exc:  # report, then die: the parent turns it into an RldgError
        queue.put({"worker": worker, "error": traceback.format_exc(), "space": space_reason(exc)})


def write_manifest(config: CollectConfig, rate_hz: Optional[float] = None) -> Path:
    """Writes `out/collect.json` (the run's config, and the recording rate `rate_hz` in steps per
    second when known) atomically, for provenance and resumption."""
    values = dataclasses.asdict(config)
    if rate_hz:
        values["rate_hz"] = rate_hz
    return write_json_atomic(Path(config.out) / MANIFEST, values)


def manifest_rate(roots) -> Optional[float]:
    """The recording rate (steps per second) of the logs under `roots`, from every collect.json
    there (a folder's own and its `--append` runs'): one rate when they all give the same one,
    else None (unknown, or logs recorded at different rates)."""
    rates = set()
    for root in roots:
        manifests = sorted(Path(root).rglob(MANIFEST))
        if not manifests:
            return None
        for path in manifests:
            try:
                rates.add(json.loads(path.read_text()).get("rate_hz"))
            except (OSError, ValueError):
                return None
    return rates.pop() if len(rates) == 1 and None not in rates else None


def collect(config: CollectConfig, progress: Optional[Callable[[dict], None]] = None,
            in_process: bool = False, append: bool = False) -> CollectSummary:
    """Runs a collection in spawned worker processes (or, with `in_process` and one worker, here).

    Workers are fresh interpreters because MuJoCo's EGL renderer segfaults when created in a
    process that has imported TensorFlow (seen with tensorflow-cpu 2.21 + mujoco 3.3), as a
    notebook or test session often has; `in_process` is for environments that do not render.
    `prepare_run` checks the arguments and the log folder first (see `check_log_folder` for
    `append`).
    """
    check_config(config)
    with folder_lock(claim_work_folder(config.out, COMMAND, MANIFEST), COMMAND):
        return _collect_locked(prepare_run(config, append), progress, in_process)


def _collect_locked(config: CollectConfig, progress: Optional[Callable[[dict], None]],
                    in_process: bool) -> CollectSummary:
    rate = None
    if not config.env_factory:  # robot_io's simulator records at its control rate
        from robot_io.sim.env import CONTROL_HZ

        rate = CONTROL_HZ
    write_manifest(config, rate)
    summary = CollectSummary(Path(config.out))

    def on_episode(msg: dict) -> None:
        if msg.get("skipped"):
            summary.skipped += 1
        else:
            summary.add_episode(msg["length"], msg["success"], msg["sources"])
        if progress:
            progress(msg)

    ranges = config.worker_ranges()
    if in_process and len(ranges) == 1:
        with space_errors(config.out, "episode logs (finished episodes are kept)"):
            run_worker(config, 0, ranges[0], on_episode)
        return summary
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(config, w, r, queue, os.getpid()), daemon=True)
             for w, r in enumerate(ranges)]
    for p in procs:
        p.start()
    running, errors, space = set(range(len(procs))), [], None
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
                if msg.get("space"):
                    space = msg["space"]
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
    if space:
        raise out_of_space(config.out, f"episode logs ({summary.recorded} episodes finished in this run "
                                       "are kept; the same command records the missing ones)", space)
    if errors:
        raise RldgError(f"collection into {config.out} failed (finished episodes are kept; once the "
                        f"cause is fixed, the same command records only the missing ones):\n"
                        + "\n".join(errors))
    return summary
