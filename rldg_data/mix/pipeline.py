"""The mix pipeline: recipe sources -> filtered, selected, relabeled episodes -> a TFDS dataset.

Two Beam passes over the sources, then metadata in the driver. The unit of work is one source
shard (a "task"): what crosses between workers is task tuples and per-episode ids and hashes
(plan), never episode payloads; the build pass writes files only.
1. plan: every episode that passes its source's filters emits (episode_id, source, hash); ids in
   several sources keep the first-listed source (dedup); per source, the sorted hashes are written
   to a small file. The driver turns weights/counts into exact per-source counts (`plan`).
2. build: one DoFn call per source shard reads it, keeps episodes below their source's hash
   threshold, relabels them, stamps the recipe hash, hashes them into `train` or `val`, serializes
   them (JPEG bytes pass through undecoded) into the task's own TFRecord part per split, and writes
   the shard's packed train statistics accumulator beside them (`stats-<task>.bin`, ~65 KB). The
   pass has no shuffle: on the DaskRunner, whose GroupByKey is an all-to-all bag shuffle over every
   partition (some 2,000 scheduler tasks for 78 shards, more time than the work itself), a combine
   here cost more than the build. The driver merges the per-shard accumulators (exact integer
   sums, any order) into `dataset_statistics.json` (train split, whole mix) and
   `dataset_statistics_<source>.json`.
3. the driver renames parts (in task order) into TFDS shards and writes the TFDS metadata,
   `rldg_info.json` and the dataset card (`finalize`): into a folder it then renames into place
   (`build_mix`, `rldg mix`), or into the folder a TFDS builder is preparing (`build_into`,
   `tfds build builders/rldg_mix`), so both commands share this one build.
The output, shard layout included, depends only on the recipe and the inputs, never on the runner.
Each task leaves a marker as it ends, which the driver counts for `rldg mix`'s progress bar
(`mix.progress`: the one signal every runner shares is the work folder).

Runner: the toolkit pins Beam's FnApiRunner for local runs (`LOCAL_RUNNER`): Beam 2.77's
`DirectRunner` would first try to download the Prism runner binary and, offline, fall back to the
FnApiRunner, so the same command would run a different engine online and offline.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Callable, Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from rldg_data.contract.check import episode_violations
from rldg_data.contract import spec
from rldg_data.mix import shard_io
from rldg_data.mix import episode_ops, plan, progress as mix_progress
from rldg_data.mix.runner.malloc import undo_fixed_malloc_thresholds
from rldg_data.stats.beam import pack, stats_arrays, unpack
from rldg_data.errors import ContractError, DatasetError, RecipeError
from rldg_data.io.outputs import check_output
from rldg_data.io.space import quiet_space_error_logs, space_errors
from rldg_data.io.reader import open_dataset
from rldg_data.mix.recipe import Recipe
from rldg_data.stats.accumulators import STATS_FILE, StatsAccumulator, per_source_stats_file
from rldg_data.io.codec import encode_episode, restamp
from rldg_data.transforms.segments import removed_per_source

log = logging.getLogger(__name__)
DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


LOCAL_RUNNER = "FnApiRunner"  # apache_beam.runners.portability.fn_api_runner.FnApiRunner
_DIRECT_NAMES = ("DirectRunner", "SwitchingDirectRunner",
                 "apache_beam.runners.direct.direct_runner.DirectRunner")


def pipeline_options(beam_options=None) -> PipelineOptions:
    """PipelineOptions from None (the local runner), a list of flags, a 'k=v,k=v' string (as `tfds
    build --beam_pipeline_options` takes), or PipelineOptions. `runner=DaskRunner` is accepted.

    No runner, or `DirectRunner`, means `LOCAL_RUNNER` (the engine Beam's DirectRunner falls back
    to offline, without its attempt to download Prism); `direct_num_workers` and
    `direct_running_mode` apply to it as they do to the DirectRunner."""
    if isinstance(beam_options, PipelineOptions):
        options = beam_options
    else:
        if beam_options is None:
            flags: list[str] = []
        elif isinstance(beam_options, str):
            flags = [f"--{kv.strip().lstrip('-')}" for kv in beam_options.split(",") if kv.strip()]
        else:
            flags = list(beam_options)
        flags = [f"--runner={DASK_RUNNER}" if f in ("--runner=DaskRunner", "--runner=dask") else f
                 for f in flags]
        options = PipelineOptions(flags)
    standard = options.view_as(StandardOptions)
    if standard.runner is None or standard.runner in _DIRECT_NAMES:
        standard.runner = LOCAL_RUNNER
    return options


def runner_description(options: PipelineOptions) -> str:
    """Which engine runs, in words (logged at the start of each mix)."""
    from apache_beam.options.pipeline_options import DirectOptions

    runner = options.view_as(StandardOptions).runner
    if runner == LOCAL_RUNNER:
        direct = options.view_as(DirectOptions)
        mode = direct.direct_running_mode or "in_memory"
        return f"Beam FnApiRunner ({mode}, {direct.direct_num_workers or 1} worker(s))"
    if runner == DASK_RUNNER:
        return "Beam DaskRunner (dask.distributed)"
    return f"Beam {runner}"


def _pipeline(options: PipelineOptions, tasks: int) -> beam.Pipeline:
    """A Beam pipeline on the chosen runner; the local runner's worker processes (multi-processing
    mode) are forked from a preloaded zygote (`mix.runner.local_runner`), not started as new interpreters."""
    options = _with_partitions(options, tasks)
    runner = None
    if options.view_as(StandardOptions).runner == LOCAL_RUNNER:
        from rldg_data.mix.runner.local_runner import ForkingFnApiRunner

        runner = ForkingFnApiRunner()
    return beam.Pipeline(runner=runner, options=options)


def _with_partitions(options: PipelineOptions, tasks: int) -> PipelineOptions:
    """On the DaskRunner, one bag partition per task unless the user chose: its default (partitions of
    128 elements) puts a mix of up to 128 source shards into one partition, i.e. on one worker."""
    if options.view_as(StandardOptions).runner == DASK_RUNNER:
        from apache_beam.runners.dask.dask_runner import DaskOptions

        dask = options.view_as(DaskOptions)
        if not dask.npartitions and not dask.partition_size:
            dask.npartitions = max(1, tasks)
    return options


def _source_tasks(recipe: Recipe) -> tuple[list[tuple[int, str, int]], spec.DatasetSpec]:
    """(source index, shard path, record count) of every shard to read, and the shared spec."""
    tasks, specs = [], {}
    for index, source in enumerate(recipe.sources):
        files = open_dataset(source.location or source.path)
        if files.spec is None:
            raise RecipeError(f"source {source.name!r}: {files.path} is not a contract dataset ({files.spec_error})")
        specs[source.name] = files.spec
        splits = source.splits or tuple(files.shards)
        for split in splits:
            if split not in files.shards:
                raise RecipeError(f"source {source.name!r}: {files.path} has no split {split!r} "
                                  f"(has {sorted(files.shards)})")
            tasks += [(index, str(p), n) for p, n in zip(files.shards[split], files.shard_lengths[split])]
    first_name, first = next(iter(specs.items()))
    for name, other in specs.items():
        if other != first:
            raise RecipeError(f"source {name!r} has spec {other}, source {first_name!r} has {first}: "
                              f"sources of one mix must share image size, encoding and dims")
    return tasks, first


class _ReadFiltered(beam.DoFn):
    """Plan pass: (episode_id, (source index, hash)) for each episode passing its filters."""

    def __init__(self, recipe: Recipe, data_spec: spec.DatasetSpec, folder: str) -> None:
        self.recipe, self.spec, self.folder = recipe, data_spec, folder

    def setup(self) -> None:
        undo_fixed_malloc_thresholds()  # on a Dask worker (see rldg_data.mix.runner.malloc)

    def process(self, element):
        task, (index, path, count) = element
        cfg = self.recipe.sources[index].filters
        for ep in shard_io.read_shard(path, count, self.spec, decode_images=False):
            if episode_ops.passes_filters(ep, cfg):
                yield ep.episode_id, (index, plan.episode_hash(self.recipe.seed, ep.episode_id))
        mix_progress.mark_done(self.folder, "plan", task)


def _resolve_duplicates(element, names: Sequence[str]):
    """Keeps an id in its first-listed source; a repeat inside one source is a contract error."""
    episode_id, entries = element
    entries = sorted(entries)
    indices = [i for i, _ in entries]
    if len(set(indices)) != len(indices):
        raise ContractError("duplicate episode_id inside one source", episode_id=episode_id,
                            file=names[indices[0]], field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}")
    yield ("hash", entries[0][0]), entries[0][1]
    for index, _ in entries[1:]:
        yield ("drop", index), episode_id


class _BuildShard(beam.DoFn):
    """Build pass, one source shard per call: its selected, relabeled, serialized episodes go into the
    task's own part files, its packed train statistics into the task's stats file; emits nothing."""

    def __init__(self, recipe: Recipe, data_spec: spec.DatasetSpec, thresholds: list[int],
                 drops: list[list[str]], folder: str) -> None:
        self.recipe, self.spec, self.thresholds, self.folder = recipe, data_spec, thresholds, folder
        self.drops = [set(d) for d in drops]
        self.recipe_hash = recipe.hash
        self._policies = None

    def setup(self) -> None:
        undo_fixed_malloc_thresholds()  # on a Dask worker (see rldg_data.mix.runner.malloc)

    def _policy(self, index: int):
        cfg = self.recipe.sources[index].relabels.actions
        if cfg is None:
            return None
        if self._policies is None:
            self._policies = {}
        if index not in self._policies:
            from rldg_data.policy import load_policy

            self._policies[index] = load_policy(cfg.policy, hold=False)  # a label per state
        return self._policies[index]

    def process(self, element):
        task, (index, path, count) = element
        source = self.recipe.sources[index]
        decode = episode_ops.needs_decoded_images(source.relabels)
        limit, drops, seed = self.thresholds[index], self.drops[index], self.recipe.seed
        parts, train = shard_io.PartWriter(self.folder, task), StatsAccumulator()
        for ep, example in shard_io.read_shard_examples(path, count, self.spec, decode_images=decode):
            if not episode_ops.passes_filters(ep, source.filters):
                continue
            if plan.episode_hash(seed, ep.episode_id) > limit or ep.episode_id in drops:
                continue
            relabeled = episode_ops.apply_relabels(ep, source.relabels, self._policy(index))
            removed = None
            if relabeled is not ep:  # the reader checked `ep`; a relabel must leave it valid too
                found = episode_violations(relabeled, self.spec if decode else None)
                if found:
                    raise found[0].located(file=path)
                removed = removed_per_source(ep, relabeled)
                ep = relabeled.replace(recipe_hash=self.recipe_hash)
                record = encode_episode(ep, self.spec.image_encoding)
            else:  # unchanged: the source's record, re-stamped (not rebuilt from arrays)
                ep = ep.replace(recipe_hash=self.recipe_hash)
                record = restamp(example, self.recipe_hash)
            split = "val" if plan.is_val(seed, ep.episode_id, self.recipe.val_fraction) else "train"
            parts.write(split, ep.episode_id, record, shard_io.summary_of(ep, source.name, removed))
            if split == "train":
                train.add_arrays(stats_arrays(ep))
        parts.close()
        if train.num_trajectories:
            shard_io.write_bytes(self.folder, stats_part_name(task), pack(train))
        mix_progress.mark_done(self.folder, "build", task)
        return []


def _write_plan_file(element, folder: str) -> None:
    (kind, index), values = element
    shard_io.write_json(folder, f"plan-{kind}-{index}.json", sorted(values))


def stats_part_name(task: int) -> str:
    return f"stats-{task:05d}.bin"


def merge_stats_parts(recipe: Recipe, tasks, folder: Path) -> None:
    """Driver: the build tasks' packed accumulators -> `dataset_statistics.json` (whole mix) and one
    file per source; removes the parts. A task without one kept no train episode."""
    by_source: dict[str, StatsAccumulator] = {}
    for task, (index, _, _) in enumerate(tasks):
        part = folder / stats_part_name(task)
        if not part.exists():
            continue
        by_source.setdefault(recipe.sources[index].name, StatsAccumulator()).merge(unpack(part.read_bytes()))
        part.unlink()
    whole = StatsAccumulator()
    for acc in by_source.values():
        whole.merge(acc)
    if not whole.num_trajectories:
        return
    shard_io.write_json(str(folder), STATS_FILE, whole.to_dict())
    for name, acc in by_source.items():
        shard_io.write_json(str(folder), per_source_stats_file(name), acc.to_dict())


def needs_plan(recipe: Recipe) -> bool:
    """Whether selection needs the plan pass: weights or counts (thresholds), or several sources
    (deduplication). A one-source recipe without them keeps every episode passing its filters, so
    its build is one pass (its ids are checked for repeats in `finalize` instead)."""
    return len(recipe.sources) > 1 or recipe.uses_weights or any(s.count is not None for s in recipe.sources)


def work_units(recipe: Recipe) -> int:
    """Source-shard tasks the mix's passes run (one per shard and pass): a progress bar's total."""
    tasks, _ = _source_tasks(recipe)
    return len(tasks) * (2 if needs_plan(recipe) else 1)


def run_plan(recipe: Recipe, tasks, data_spec, work: Path, options: PipelineOptions,
             progress: Optional[Callable[[int], None]] = None) -> dict:
    """Plan pass (Beam), then the per-source counts and hash thresholds (driver)."""
    names = [s.name for s in recipe.sources]
    if not needs_plan(recipe):
        return {"available": None, "selected": None, "thresholds": [plan.KEEP_ALL], "drops": [[]],
                "duplicates_dropped": {names[0]: 0}}
    p = _pipeline(options, len(tasks))
    # beam.Create of more than one element ends in its own Reshuffle: the tasks spread over workers
    _ = (p | "Shards" >> beam.Create(list(enumerate(tasks)))
         | "Filter" >> beam.ParDo(_ReadFiltered(recipe, data_spec, str(work)))
         | "ById" >> beam.GroupByKey()
         | "Dedup" >> beam.FlatMap(_resolve_duplicates, names)
         | "Collect" >> beam.CombinePerKey(beam.combiners.ToListCombineFn())
         | "WritePlan" >> beam.Map(_write_plan_file, str(work)))
    with mix_progress.Watch(work, "plan", progress):
        _run(p)
    hashes, drops = [], []
    for i in range(len(names)):
        h, d = work / f"plan-hash-{i}.json", work / f"plan-drop-{i}.json"
        hashes.append(json.loads(h.read_text()) if h.exists() else [])
        drops.append(json.loads(d.read_text()) if d.exists() else [])
    available = {n: len(h) for n, h in zip(names, hashes)}
    weights = {s.name: s.weight for s in recipe.sources} if recipe.uses_weights else None
    counts = ({s.name: s.count for s in recipe.sources}
              if any(s.count is not None for s in recipe.sources) else None)
    take = plan.counts_to_take(available, weights, counts)
    thresholds = [plan.threshold(h, take[n]) for n, h in zip(names, hashes)]
    for path in work.glob("plan-*.json"):
        path.unlink()
    return {"available": available, "selected": take, "thresholds": thresholds, "drops": drops,
            "duplicates_dropped": {n: len(d) for n, d in zip(names, drops)}}


def run_build(recipe: Recipe, tasks, data_spec, mix_plan: dict, work: Path, options: PipelineOptions,
              progress: Optional[Callable[[int], None]] = None) -> None:
    """Build pass: selected episodes into one TFRecord part per task and split, statistics into JSON."""
    p = _pipeline(options, len(tasks))
    # One leaf for the whole graph: the DaskRunner computes only the last transform's bag. Create's
    # own Reshuffle spreads the tasks over workers (a second one cost the FnApiRunner a stage).
    _ = (p | "Shards" >> beam.Create(list(enumerate(tasks)))
         | "Build" >> beam.ParDo(_BuildShard(recipe, data_spec, mix_plan["thresholds"], mix_plan["drops"],
                                             str(work))))
    with mix_progress.Watch(work, "build", progress):
        _run(p)
    merge_stats_parts(recipe, tasks, work)


def _run(pipeline: beam.Pipeline) -> None:
    """Runs to completion; closes the Dask client the DaskRunner opened (else it outlives the run)."""
    result = pipeline.run()
    try:
        result.wait_until_finish()
    finally:
        client = getattr(result, "client", None)
        if client is not None:
            client.close()


def run_passes(recipe: Recipe, work: Path, beam_options=None,
               progress: Optional[Callable[[int], None]] = None) -> tuple[dict, spec.DatasetSpec]:
    """Plan and build passes into the existing folder `work`; returns (plan, spec) for `finalize`.
    `progress(n)` is called as tasks finish, n of them (`work_units` in all; see `mix.progress`)."""
    tasks, data_spec = _source_tasks(recipe)
    options = pipeline_options(beam_options)
    log.info("mix %s: %d source shards on %s", recipe.name, len(tasks), runner_description(options))
    mix_plan = run_plan(recipe, tasks, data_spec, work, options, progress)
    if mix_plan["available"] is not None:
        log.info("mix plan: %s", {k: mix_plan[k] for k in ("available", "selected")})
    run_build(recipe, tasks, data_spec, mix_plan, work, options, progress)
    mix_progress.clear(work)
    return mix_plan, data_spec


def build_mix(recipe: Recipe, data_dir: str | os.PathLike, beam_options=None, overwrite: bool = False,
              progress: Optional[Callable[[int], None]] = None) -> Path:
    """Builds the recipe's dataset as `<data_dir>/<name>/<version>` and returns that folder.
    `progress(n)`: n more source-shard tasks done, `work_units(recipe)` in all (`rldg mix`'s bar).

    `beam_options`: see `pipeline_options` (e.g. "direct_running_mode=multi_processing,
    direct_num_workers=2", or ["--runner=DaskRunner", "--dask_client_address=HOST:PORT"]).
    """
    from rldg_data.mix.finalize import finalize

    final = Path(data_dir) / recipe.name / recipe.version
    check_output(final, "rldg mix", force=overwrite, inputs=[src.path for src in recipe.sources])
    work = Path(data_dir) / recipe.name / f".tmp-{recipe.version}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        with space_errors(final, f"the mix {recipe.name!r}"), quiet_space_error_logs():
            mix_plan, data_spec = run_passes(recipe, work, beam_options, progress)
            return finalize(recipe, data_spec, mix_plan, work, final, overwrite)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        try:
            work.parent.rmdir()  # <data_dir>/<name>, if this build made it and nothing else is there
        except OSError:
            pass
        raise


def build_into(recipe: Recipe, folder: str | os.PathLike, dataset_name: str, beam_options=None) -> list:
    """Builds the recipe straight into `folder` (a TFDS builder's data dir being prepared), shards
    named for `dataset_name`, statistics, `rldg_info.json` and card beside them; returns the TFDS
    SplitInfos for the builder to record (TFDS writes `dataset_info.json` and renames the folder)."""
    from rldg_data.mix.finalize import assemble

    import tensorflow_datasets as tfds

    folder = Path(folder)
    mix_plan, _ = run_passes(recipe, folder, beam_options)
    splits, _ = assemble(recipe, mix_plan, folder, dataset_name)
    return [tfds.core.SplitInfo(name=name, shard_lengths=lengths, num_bytes=num_bytes)
            for name, lengths, num_bytes in splits]
