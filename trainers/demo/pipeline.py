"""`run_demo`: the RLDG experiment end to end, as cached stages (see `trainers.demo`).

1. specialists: the committed checkpoints (or `--retrain`: `rldg specialist train`), each also
   evaluated on its task's unseen variants;
2. collection: specialist rollouts, human-proxy demonstrations, assembly hand-offs (`rldg collect`),
   topped up until every seen variant has the wanted number of successes;
3. datasets: raw logs -> `tfds build builders/rldg_rollouts`; training sets -> `tfds build
   builders/rldg_mix` with the recipes of `trainers.demo.recipes`;
4. generalists: `rldg generalist train` + `eval` on seen and unseen variants of every task (one per
   training seed of the profile's multi-seed datasets, all on the same dataset and the same
   evaluation episodes), plus the data-efficiency sweep on one connector;
5. report: `rldg report` per dataset, results.json, figures and report.html (`trainers.demo.page`).
This process imports neither TensorFlow nor MuJoCo's renderer: every stage is a subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

import yaml

from rldg_data.errors import RldgError
from rldg_data.io.outputs import claim_work_folder
from trainers.demo import recipes
from trainers.demo.cache import StageCache
from trainers.demo.stages import CommandLog, rldg, tfds_build, tfds_config
from trainers.demo.profile import HANDOFF_TASKS, SPECIALIST_VARIANTS, TASKS, DemoProfile
from trainers.demo.results import median_or_none as _median_or_none

log = logging.getLogger(__name__)

COMMITTED = Path(__file__).with_name("specialists")
MAX_TOPUPS = 3  # collection rounds per log folder before settling for fewer successes


@dataclasses.dataclass
class DemoRun:
    """State of one run: where it writes, its cache, the command log, and a stage reporter."""

    profile: DemoProfile
    out: Path
    retrain: bool = False
    on_stage: Callable[[str], None] = lambda name: None
    specialists: Path = COMMITTED  # folder of <task>-<variant> checkpoints to start from

    def __post_init__(self) -> None:
        self.out = Path(self.out).resolve()  # recipes and logs name absolute paths
        claim_work_folder(self.out, "rldg demo", "commands.log")  # refuses a folder of other files
        self.specialists = Path(self.specialists)
        self.cache = StageCache(self.out / "cache")
        self.commands = CommandLog(self.out / "commands.log")

    def stage(self, name: str, inputs: dict, work: Callable[[Path], object]) -> Path:
        """Runs or reuses one stage; `inputs` must name everything its output depends on (the
        profile values it uses, upstream stage folders), and nothing else, so that changing, say,
        the evaluation episodes reruns the evaluations but not the data collection."""
        self.on_stage(name)
        return self.cache.run(name, inputs, work)

    def sh(self, argv, folder: Path, env: Optional[dict] = None) -> None:
        self.commands.run(argv, folder / "log.txt", env)


# ---- 1. specialists -------------------------------------------------------------------------

def specialist(run: DemoRun, task: str, variant: str) -> Path:
    committed = run.specialists / f"{task}-{variant}"
    inputs = {"task": task, "variant": variant, "retrain": run.retrain}
    inputs.update({"minutes": run.profile.specialist_minutes, "seed": run.profile.seed} if run.retrain
                  else {"committed": _file_digest(committed / "actor.npz")})

    def work(tmp: Path):
        ckpt = tmp / "checkpoint"
        if run.retrain:
            args = ["specialist", "train", "--task", task, "--variant", variant, "--out", str(ckpt),
                    "--demos", "20", "--minutes", str(run.profile.specialist_minutes), "--clock", "cpu",
                    "--eval-every", "2500", "--seed", str(run.profile.seed)]
            if task in HANDOFF_TASKS:
                args += ["--start-stage", "bottleneck"]
            run.sh(rldg(*args), tmp)
        else:
            if not (committed / "policy.json").is_file():
                raise RldgError(f"no specialist checkpoint in {committed}: run `rldg demo --retrain` "
                                f"(or bash {COMMITTED.relative_to(COMMITTED.parents[2])}/train_all.sh)")
            shutil.copytree(committed, ckpt)
        return {"checkpoint": "checkpoint"}

    return run.stage(f"specialist-{task}-{variant}", inputs, work) / "checkpoint"


def specialist_generalization(run: DemoRun, task: str, variant: str, ckpt: Path) -> dict:
    """The specialist on its own variant and on each unseen variant of its task (state-based)."""
    import robot_io

    targets = [variant] + robot_io.variants(task, "unseen")

    def work(tmp: Path):
        rows = {}
        for target in targets:
            out = tmp / f"{target}.json"
            run.sh(rldg("specialist", "eval", str(ckpt), "--variant", target, "--episodes",
                        str(run.profile.specialist_eval_episodes), "--out", str(out)), tmp)
            rows[target] = json.loads(out.read_text())
        return rows

    folder = run.stage(f"specialist-eval-{task}-{variant}", {
        "checkpoint": str(ckpt.parent.name), "episodes": run.profile.specialist_eval_episodes,
        "sim": code_digest("robot_io")}, work)
    return json.loads((folder / "stage.json").read_text())["result"]


# ---- 2. collection --------------------------------------------------------------------------

def collect(run: DemoRun, kind: str, task: str, variant: str, policy: str, wanted: int,
            extra: tuple[str, ...] = ()) -> tuple[Path, int]:
    """Logs of `kind` (rl | human | handoff) on one variant with about `wanted` successes."""
    from collectors.recorder import read_outcomes

    def work(tmp: Path):
        logs = tmp / "logs"
        episodes = run.profile.attempts(wanted)
        cap = MAX_TOPUPS * episodes
        for _ in range(MAX_TOPUPS):
            run.sh(rldg("collect", "--task", task, "--variant", variant, "--policy", policy,
                        "--episodes", str(episodes), "--out", str(logs), "--workers",
                        str(run.profile.workers), "--seed", str(_seed_base(kind, run.profile.seed)),
                        "--image-size", str(run.profile.image_size), *extra), tmp)
            outcomes = read_outcomes(logs)
            successes = sum(o["success"] for o in outcomes)
            if successes >= wanted:
                break
            rate = max(successes / len(outcomes), 0.1)
            episodes = min(cap, len(outcomes) + int((wanted - successes) / rate * 1.3) + 1)
            if episodes <= len(outcomes):
                break
        return {"episodes": len(outcomes), "successes": successes,
                "median_length": _median_or_none([o["length"] for o in outcomes if o["success"]])}

    name = f"collect-{kind}-{task}-{variant}"
    folder = run.stage(name, {"policy": Path(policy).parent.name if "/" in policy else policy,
                              "sim": code_digest("robot_io"),
                              "wanted": wanted, "extra": list(extra), "seed": run.profile.seed,
                              "collect_factor": run.profile.collect_factor,
                              "image_size": run.profile.image_size}, work)
    return folder / "logs", json.loads((folder / "stage.json").read_text())["result"]["successes"]


def _needs_rl_logs(profile: DemoProfile, task: str) -> bool:
    return recipes.needs_rl_logs(task, profile.datasets)


def _start_stage(ckpt: Path) -> int:
    """The stage a specialist was trained from (its policy.json says; the bottleneck for assembly)."""
    return int(json.loads((Path(ckpt) / "policy.json").read_text()).get("start_stage", 0))


def _seed_base(kind: str, seed: int) -> int:
    """Disjoint seed ranges per source and per run seed (runs with different `--seed` share no
    episode), and never the generalists' evaluation seeds (`_eval_seed`)."""
    return seed * 100_000 + {"rl": 10_000, "human": 20_000, "handoff": 30_000}[kind]


def _eval_seed(seed: int) -> int:
    return 5_000_000 + seed * 100_000


# ---- 3. datasets ----------------------------------------------------------------------------

def build_rollouts(run: DemoRun, name: str, log_dirs: list[Path]) -> Path:
    """`tfds build builders/rldg_rollouts` of the logs; returns the dataset version folder."""

    def work(tmp: Path):
        run.sh(tfds_build("rldg_rollouts", tmp / "data",
                          "--config", tfds_config(name, log_dirs=[str(p) for p in log_dirs])), tmp)
        return {}

    folder = run.stage(f"rollouts-{name}", {"logs": sorted(p.parent.name for p in log_dirs)}, work)
    return _version_folder(folder / "data")


def build_mix(run: DemoRun, recipe: dict) -> Path:
    """`tfds build builders/rldg_mix --config custom` of a recipe; returns the version folder."""

    def work(tmp: Path):
        recipe_file = tmp / "recipe.yaml"
        recipe_file.write_text(yaml.safe_dump(recipe, sort_keys=False))
        run.sh(tfds_build("rldg_mix", tmp / "data", "--config", "custom"), tmp,
               env={"RLDG_MIX_RECIPE": str(recipe_file)})
        return {}

    folder = run.stage(f"mix-{recipe['name']}", {"recipe": recipe}, work)
    return _version_folder(folder / "data")


def _version_folder(data_dir: Path) -> Path:
    found = sorted(p.parent for p in data_dir.rglob("dataset_info.json"))
    if len(found) != 1:
        raise RldgError(f"expected one built dataset under {data_dir}, found {len(found)}")
    return found[0]


# ---- 4. generalists -------------------------------------------------------------------------

def train_generalist(run: DemoRun, name: str, dataset: Path, steps: int, seed: Optional[int] = None) -> Path:
    """`rldg generalist train` on `dataset`; `seed` (default: the run's) seeds only the generalist's
    initialisation, batch sampling and augmentation, so generalists of several training seeds on one
    dataset differ by optimisation luck alone."""
    seed = run.profile.seed if seed is None else int(seed)

    def work(tmp: Path):
        run.sh(rldg("generalist", "train", "--dataset", str(dataset), "--out", str(tmp / "checkpoint"),
                    "--steps", str(steps), "--batch-size", str(run.profile.batch_size),
                    "--image-size", str(run.profile.image_size), "--seed", str(seed),
                    "--encoder", run.profile.encoder, "--shift", str(run.profile.shift),
                    "--window", str(run.profile.window),
                    "--channels", ",".join(str(c) for c in run.profile.channels)), tmp)
        return {}

    folder = run.stage(f"generalist-{name}", {"dataset": _stage_of(dataset), "steps": steps,
                                              "batch_size": run.profile.batch_size,
                                              "image_size": run.profile.image_size,
                                              "encoder": run.profile.encoder,
                                              "shift": run.profile.shift, "window": run.profile.window,
                                              "channels": list(run.profile.channels),
                                              "code": code_digest("trainers/generalist", "rldg_data/loaders"),
                                              "seed": seed}, work)
    return folder / "checkpoint"


def evaluate_generalist(run: DemoRun, name: str, ckpt: Path, task: str, variants: str,
                        episodes: int, seen_episodes: int | None = None) -> dict:
    """Evaluation stage: `episodes` per variant (`seen_episodes` per seen variant, if given)."""
    seen_episodes = None if seen_episodes == episodes else seen_episodes

    def work(tmp: Path):
        args = ["generalist", "eval", "--checkpoint", str(ckpt), "--task", task, "--variants", variants,
                "--episodes", str(episodes), "--seed", str(_eval_seed(run.profile.seed)),
                "--out", str(tmp / "results.json")]
        if seen_episodes:
            args += ["--seen-episodes", str(seen_episodes)]
        if run.profile.eval_max_steps:
            args += ["--max-steps", str(run.profile.eval_max_steps)]
        if run.profile.open_loop:
            args += ["--open-loop"]
        run.sh(rldg(*args), tmp)
        return {}

    folder = run.stage(f"eval-{name}-{task}", {"checkpoint": _stage_of(ckpt), "variants": variants,
                                               "episodes": episodes, "seen_episodes": seen_episodes,
                                               "seed": run.profile.seed,
                                               "max_steps": run.profile.eval_max_steps,
                                               "code": code_digest("trainers/generalist", "robot_io"),
                                               "open_loop": run.profile.open_loop}, work)
    return json.loads((folder / "results.json").read_text())


def code_digest(*folders: str) -> str:
    """A digest of the Python source under `folders` (relative to the repository): the cache key of
    a stage whose result depends on code no argument names (the simulation's cameras and tasks, the
    trainer's shuffle buffer, the evaluation loop), so that a changed simulation re-records and a
    changed trainer retrains instead of silently reusing old episodes and checkpoints."""
    import hashlib

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _stage_of(path: Path) -> str:
    """The cache stage folder a path lies in (its name carries the hash of that stage's inputs)."""
    path = Path(path).resolve()
    for parent in [path, *path.parents]:
        if parent.parent.name == "cache":
            return parent.name
    return str(path)


def _file_digest(path: Path) -> Optional[str]:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None


def equal_counts(seen, successes: dict, wanted: int) -> dict[tuple[str, str], int]:
    """Successful episodes per seen variant for every dataset: the fewest any source reached
    (capped at `wanted`), so that RL and human data are compared on equal numbers. A variant on
    which some source never succeeded is left out of every dataset (results.json lists it)."""
    counts = {}
    for task, variant in seen:
        have = [s[f"{task}/{variant}"] for s in successes.values() if f"{task}/{variant}" in s]
        n = min([wanted, *have])
        if n > 0:
            counts[(task, variant)] = n
        else:
            log.warning("%s/%s: a source has no successful episode (%s); left out of every dataset",
                        task, variant, {k: s.get(f"{task}/{variant}") for k, s in successes.items()})
    if not counts:
        raise RldgError(f"no seen variant has successful episodes from every source: {successes}")
    return counts


def planned_generalists(profile: DemoProfile) -> list[tuple[str, str, int]]:
    """(dataset, task family, training seed) of every generalist of the main table (not the
    efficiency sweep's), the run's seed first: one per training seed of the multi-seed datasets."""
    return [(kind, task, seed) for task in profile.tasks
            for kind in recipes.family_datasets(task, profile.datasets) for seed in profile.seeds_for(kind)]


def stage_count(profile: DemoProfile) -> int:
    """How many stages `run_demo` reports (for the progress display's ETA)."""
    seen = profile.seen
    n_handoff = len([t for t, _ in seen if t in HANDOFF_TASKS])
    specialists = 2 * len(seen)
    collection = 2 * len(seen) + n_handoff - len([t for t, _ in seen if not _needs_rl_logs(profile, t)])
    trained = sum(len(recipes.family_datasets(task, profile.datasets)) for task in profile.tasks)
    datasets = 3 + trained + 1  # raw rollouts, training mixes, the comparison mix
    generalists = 2 * len(planned_generalists(profile))  # train + eval
    efficiency = 2 * len(profile.efficiency_sizes) * 3 if profile.efficiency else 0  # mix, train, eval
    reports = (trained if profile.report_each_dataset else 0) + 1
    return specialists + collection + datasets + generalists + efficiency + reports + 1


# ---- the whole run --------------------------------------------------------------------------

def run_demo(profile: DemoProfile, out: str | Path, *, retrain: bool = False,
             specialists: str | Path = COMMITTED,
             on_stage: Callable[[str], None] = lambda name: None) -> dict:
    """Runs (or resumes) the demo; returns the results dict also written to OUT/results.json.

    specialists: folder of `<task>-<variant>` checkpoints used unless `retrain` (default: the
    committed ones in trainers/demo/specialists)."""
    from trainers.demo import page

    started = time.monotonic()
    run = DemoRun(profile, Path(out), retrain, on_stage, Path(specialists))
    seen = profile.seen
    with ThreadPoolExecutor(profile.workers) as pool:  # single-threaded jobs: two at a time
        ckpts = dict(zip(seen, pool.map(lambda tv: specialist(run, *tv), seen)))
        spec_eval = dict(zip([f"{t}/{v}" for t, v in seen], pool.map(
            lambda tv: specialist_generalization(run, *tv, ckpts[tv]), seen)))

    eff_task, eff_variant = profile.efficiency_variant
    logs: dict[str, list[Path]] = {"rl": [], "human": [], "handoff": []}
    successes: dict[str, dict[str, int]] = {"rl": {}, "human": {}, "handoff": {}}
    for task, variant in seen:
        wanted = max(profile.episodes, profile.efficiency_sizes[-1]) if (task, variant) == (eff_task, eff_variant) \
            else profile.episodes
        extra = ("--start-stage", str(_start_stage(ckpts[(task, variant)]))) if task in HANDOFF_TASKS else ()
        sources = (("rl", str(ckpts[(task, variant)]), extra), ("human", "human", ()))
        for kind, policy, args in sources if _needs_rl_logs(profile, task) else sources[1:]:
            folder, n = collect(run, kind, task, variant, policy, wanted, args)
            logs[kind].append(folder)
            successes[kind][f"{task}/{variant}"] = n
        if task in HANDOFF_TASKS:
            folder, n = collect(run, "handoff", task, variant, str(ckpts[(task, variant)]), profile.episodes,
                                ("--handoff", "human-first"))
            logs["handoff"].append(folder)
            successes["handoff"][f"{task}/{variant}"] = n
    logs = {kind: folders for kind, folders in logs.items() if folders}
    successes = {kind: counts for kind, counts in successes.items() if counts}

    # Dataset builds are single-threaded Beam runs: two at a time.
    with ThreadPoolExecutor(profile.workers) as pool:
        raw = dict(zip(logs, pool.map(lambda kind: str(build_rollouts(run, f"demo_{kind}", logs[kind])), logs)))
    counts = equal_counts(seen, successes, profile.episodes)
    # One generalist per task family and training dataset (the paper fine-tunes per task).
    families = [t for t in profile.tasks if any(task == t for task, _ in counts)]
    keys = [(kind, task) for task in families for kind in recipes.family_datasets(task, profile.datasets)]
    with ThreadPoolExecutor(profile.workers) as pool:
        datasets = dict(zip(keys, pool.map(lambda key: build_mix(run, recipes.training_recipe(
            key[0], {tv: n for tv, n in counts.items() if tv[0] == key[1]}, raw,
            {tv: str(p) for tv, p in ckpts.items()}, profile.seed, family=key[1])), keys)))

    # Independent chains (one dataset's train -> eval, one efficiency size's mix -> train -> eval,
    # one report) run `workers` at a time: each is single-threaded most of its time.
    def main_chain(kind: str, task: str, seed: int):
        # The run's seed keeps its stage names (and cache keys); other training seeds get their own.
        suffix = "" if seed == profile.seed else f"-train{seed}"
        ckpt = train_generalist(run, f"{kind}-{task}{suffix}", datasets[(kind, task)], profile.generalist_steps,
                                seed=seed)
        variants = "all" if kind in profile.unseen_for else "seen"
        return ckpt, evaluate_generalist(run, f"{kind}{suffix}", ckpt, task, variants,
                                         profile.eval_episodes_for(task), profile.seen_eval_episodes_for(task, kind))

    def efficiency_chain(source: str, size: int):
        dataset = build_mix(run, recipes.efficiency_recipe(source, eff_task, eff_variant, raw[source], size,
                                                           profile.seed))
        name = f"efficiency-{source}-{size}"
        ckpt = train_generalist(run, name, dataset, profile.efficiency_steps)
        result = evaluate_generalist(run, name, ckpt, eff_task, eff_variant, profile.efficiency_eval_episodes)
        return result["variants"][eff_variant]

    def report_chain(name: str, dataset: Path):
        def work(tmp: Path):
            run.sh(rldg("report", str(dataset), "--out", str(tmp / "report"), "--video", "none"), tmp)
            return {}
        return run.stage(f"report-{name}", {"dataset": _stage_of(dataset)}, work) / "report"

    wanted_sizes = profile.efficiency_sizes if profile.efficiency else ()
    sizes = [(source, size) for source in ("rl", "human") for size in wanted_sizes
             if size <= successes[source].get(f"{eff_task}/{eff_variant}", 0)]
    skipped = [(source, size) for source in ("rl", "human") for size in wanted_sizes
               if (source, size) not in sizes]
    if skipped:
        log.warning("data efficiency: too few successes for %s", skipped)
    # Both sources in one dataset: its report draws RL and human actions side by side (the RLDG analysis).
    first = next((t for t in families if ("rl", t) in datasets and ("human", t) in datasets), None)
    to_report = {f"{kind}_{task}": d for (kind, task), d in datasets.items()} if profile.report_each_dataset else {}
    if first is not None:
        to_report["rl_vs_human"] = build_mix(run, {
            "name": "demo_rl_vs_human", "seed": profile.seed, "val_fraction": 0.0,
            "sources": {"rl": {"path": str(datasets[("rl", first)])},
                        "human": {"path": str(datasets[("human", first)])}}})
    pool = ThreadPoolExecutor(profile.workers)
    try:
        # The run's seed of every dataset first: an interrupted run has the main table before the
        # extra training seeds.
        planned = sorted(planned_generalists(profile), key=lambda g: g[2] != profile.seed)
        mains = {(kind, task, seed): pool.submit(main_chain, kind, task, seed)
                 for kind, task, seed in planned if (kind, task) in datasets}
        effs = {key: pool.submit(efficiency_chain, *key) for key in sizes}
        reps = {name: pool.submit(report_chain, name, d) for name, d in to_report.items()}
        generalists = {f"{kind}_{task}" + ("" if seed == profile.seed else f"_train{seed}"): f.result()[0]
                       for (kind, task, seed), f in mains.items()}
        # evaluations: the run's training seed (the main table); seed_evaluations: every training
        # seed of the multi-seed datasets, on the same evaluation episodes.
        evaluations: dict[str, dict] = {}
        seed_evaluations: dict[str, dict] = {}
        for (kind, task, seed), f in mains.items():
            if seed == profile.seed:
                evaluations.setdefault(kind, {})[task] = f.result()[1]
            if len(profile.seeds_for(kind)) > 1:
                seed_evaluations.setdefault(kind, {}).setdefault(task, {})[str(seed)] = f.result()[1]
        efficiency = {"task": eff_task, "variant": eff_variant, "skipped": [list(k) for k in skipped], "sizes": {}}
        for (source, size), f in effs.items():
            efficiency["sizes"].setdefault(source, {})[str(size)] = f.result()
        reports = {name: f.result() for name, f in reps.items()}
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # a failed chain stops the rest from starting
        raise
    pool.shutdown()
    # Where the RLDG recipe is the specialists' rollouts (single-stage tasks), its generalist is
    # the RL-data one: the same dataset, trained once; the table says so.
    same_as = {}
    for task in families:
        if task not in HANDOFF_TASKS and task in evaluations.get("rl", {}):
            evaluations.setdefault("rldg", {})[task] = evaluations["rl"][task]
            same_as[f"rldg/{task}"] = "rl"
            if task in seed_evaluations.get("rl", {}):
                seed_evaluations.setdefault("rldg", {})[task] = seed_evaluations["rl"][task]

    on_stage("results and report.html")
    return page.write_results(run.out, profile, {
        "specialists": {f"{t}/{v}": str(p) for (t, v), p in ckpts.items()},
        "specialist_generalization": spec_eval, "successes_collected": successes,
        "episodes_per_variant": {f"{t}/{v}": n for (t, v), n in counts.items()},
        "dropped_variants": [f"{t}/{v}" for t, v in seen if (t, v) not in counts],
        "datasets": {f"{k}_{t}": str(v) for (k, t), v in datasets.items()},
        "same_data": same_as,
        "not_trained": {k: v for task in families for k, v in recipes.not_trained(task, profile.datasets).items()},
        "evaluations": evaluations, "seed_evaluations": seed_evaluations, "efficiency": efficiency,
        "generalists": {k: str(v) for k, v in generalists.items()},
        "reports": {k: str(v) for k, v in reports.items()},
        "seconds": round(time.monotonic() - started, 1)})
