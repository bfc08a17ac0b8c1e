"""The mix pipeline: recipe sources -> filtered, selected, relabeled episodes -> a TFDS dataset.

Two Beam passes over the sources, then metadata in the driver:
1. plan: every episode that passes its source's filters emits (episode_id, source, hash); ids in
   several sources keep the first-listed source (dedup); per source, the sorted hashes are written
   to a small file. The driver turns weights/counts into exact per-source counts (`plan`).
2. build: each source episode below its source's hash threshold is relabeled, stamped with the
   recipe hash, hashed into `train` or `val`, serialized (JPEG bytes pass through undecoded) and
   written into per-bundle TFRecord parts; `ComputeStats` writes `dataset_statistics.json`
   (train split, whole mix) and `dataset_statistics_<source>.json`.
3. the driver renames parts into TFDS shards, writes TFDS metadata, `rldg_info.json`, the dataset
   card, and renames the folder into place (`writer.publish`).
Nothing depends on process order or bundle boundaries except which shard file holds an episode.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from rldg_data.contract import spec
from rldg_data.mix import episode_ops, plan
from rldg_data.io import beam_io as io
from rldg_data.stats.beam import StatsCombineFn, stats_arrays
from rldg_data.errors import ContractError, DatasetError, RecipeError
from rldg_data.io.reader import open_dataset
from rldg_data.mix.recipe import Recipe
from rldg_data.stats.accumulators import STATS_FILE, per_source_stats_file
from rldg_data.io.tfexample import encode_episode

log = logging.getLogger(__name__)
ALL = "__all__"
_EPISODE, _STATS = "episode", "stats"
DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


def pipeline_options(beam_options=None) -> PipelineOptions:
    """PipelineOptions from None (DirectRunner), a list of flags, a 'k=v,k=v' string (as `tfds
    build --beam_pipeline_options` takes), or PipelineOptions. `runner=DaskRunner` is accepted."""
    if isinstance(beam_options, PipelineOptions):
        return beam_options
    if beam_options is None:
        flags: list[str] = []
    elif isinstance(beam_options, str):
        flags = [f"--{kv.strip().lstrip('-')}" for kv in beam_options.split(",") if kv.strip()]
    else:
        flags = list(beam_options)
    flags = [f"--runner={DASK_RUNNER}" if f in ("--runner=DaskRunner", "--runner=dask") else f for f in flags]
    if not any(f.startswith("--runner") for f in flags):
        flags.append("--runner=DirectRunner")
    return PipelineOptions(flags)


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

    def __init__(self, recipe: Recipe, data_spec: spec.DatasetSpec) -> None:
        self.recipe, self.spec = recipe, data_spec

    def process(self, task):
        index, path, count = task
        cfg = self.recipe.sources[index].filters
        for ep in io.read_shard(path, count, self.spec, decode_images=False):
            if episode_ops.passes_filters(ep, cfg):
                yield ep.episode_id, (index, plan.episode_hash(self.recipe.seed, ep.episode_id))


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


class _ReadSelected(beam.DoFn):
    """Build pass: selected, relabeled, serialized episodes; train arrays to the `stats` output."""

    def __init__(self, recipe: Recipe, data_spec: spec.DatasetSpec, thresholds: list[int],
                 drops: list[list[str]]) -> None:
        self.recipe, self.spec, self.thresholds = recipe, data_spec, thresholds
        self.drops = [set(d) for d in drops]
        self.recipe_hash = recipe.hash
        self._policies = None

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

    def process(self, task):
        index, path, count = task
        source = self.recipe.sources[index]
        decode = episode_ops.needs_decoded_images(source.relabels)
        limit, drops, seed = self.thresholds[index], self.drops[index], self.recipe.seed
        for ep in io.read_shard(path, count, self.spec, decode_images=decode):
            if not episode_ops.passes_filters(ep, source.filters):
                continue
            if plan.episode_hash(seed, ep.episode_id) > limit or ep.episode_id in drops:
                continue
            ep = episode_ops.apply_relabels(ep, source.relabels, self._policy(index))
            ep = ep.replace(recipe_hash=self.recipe_hash)
            found = ep.violations(self.spec if decode else None)
            if found:
                raise found[0].located(file=path)
            split = "val" if plan.is_val(seed, ep.episode_id, self.recipe.val_fraction) else "train"
            record = encode_episode(ep, self.spec.image_encoding)
            # One output of tagged pairs, split below: the DaskRunner mixes up multi-output ParDos.
            yield _EPISODE, (split, ep.episode_id, record, io.summary_of(ep, source.name))
            if split == "train":
                yield _STATS, (source.name, stats_arrays(ep))


def _tagged(element, tag: str):
    if element[0] == tag:
        yield element[1]


def _write_plan_file(element, folder: str) -> None:
    (kind, index), values = element
    io.write_json(folder, f"plan-{kind}-{index}.json", sorted(values))


def _write_stats_file(element, folder: str) -> None:
    key, stats = element
    io.write_json(folder, STATS_FILE if key == ALL else per_source_stats_file(key), stats)


def run_plan(recipe: Recipe, tasks, data_spec, work: Path, options: PipelineOptions) -> dict:
    """Plan pass (Beam), then the per-source counts and hash thresholds (driver)."""
    names = [s.name for s in recipe.sources]
    p = beam.Pipeline(options=options)
    _ = (p | "Shards" >> beam.Create(list(enumerate(tasks)))
         | "Spread" >> beam.Reshuffle() | "Tasks" >> beam.Values()
         | "Filter" >> beam.ParDo(_ReadFiltered(recipe, data_spec))
         | "ById" >> beam.GroupByKey()
         | "Dedup" >> beam.FlatMap(_resolve_duplicates, names)
         | "Collect" >> beam.CombinePerKey(beam.combiners.ToListCombineFn())
         | "WritePlan" >> beam.Map(_write_plan_file, str(work)))
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


def run_build(recipe: Recipe, tasks, data_spec, mix_plan: dict, work: Path, options: PipelineOptions) -> None:
    """Build pass: selected episodes into TFRecord parts, statistics into JSON files."""
    p = beam.Pipeline(options=options)
    out = (p | "Shards" >> beam.Create(list(enumerate(tasks)))
           | "Spread" >> beam.Reshuffle() | "Tasks" >> beam.Values()
           | "Select" >> beam.ParDo(_ReadSelected(recipe, data_spec, mix_plan["thresholds"],
                                                  mix_plan["drops"])))
    episodes = out | "Episodes" >> beam.FlatMap(_tagged, _EPISODE)
    stats = out | "StatsInputs" >> beam.FlatMap(_tagged, _STATS)
    parts = episodes | "WriteParts" >> beam.ParDo(io.WriteParts(str(work)))
    written = (stats | "PerSourceAndAll" >> beam.FlatMap(lambda kv: [kv, (ALL, kv[1])])
               | "Stats" >> beam.CombinePerKey(StatsCombineFn())
               | "WriteStats" >> beam.Map(_write_stats_file, str(work)))
    # One leaf for the whole graph: the DaskRunner computes only the last transform's bag,
    # so a branch that does not lead into it would silently never run.
    _ = (parts, written) | "Join" >> beam.Flatten() | "Done" >> beam.Map(lambda _: None)
    _run(p)


def _run(pipeline: beam.Pipeline) -> None:
    """Runs to completion; closes the Dask client the DaskRunner opened (else it outlives the run)."""
    result = pipeline.run()
    try:
        result.wait_until_finish()
    finally:
        client = getattr(result, "client", None)
        if client is not None:
            client.close()


def build_mix(recipe: Recipe, data_dir: str | os.PathLike, beam_options=None, overwrite: bool = False) -> Path:
    """Builds the recipe's dataset as `<data_dir>/<name>/<version>` and returns that folder.

    `beam_options`: see `pipeline_options` (e.g. "direct_running_mode=multi_processing,
    direct_num_workers=2", or ["--runner=DaskRunner", "--dask_client_address=HOST:PORT"]).
    """
    from rldg_data.mix.finalize import finalize

    final = Path(data_dir) / recipe.name / recipe.version
    if final.exists() and not overwrite:
        raise DatasetError(f"{final} already exists (pass overwrite=True / --force to replace it)")
    tasks, data_spec = _source_tasks(recipe)
    options = pipeline_options(beam_options)
    work = Path(data_dir) / recipe.name / f".tmp-{recipe.version}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        mix_plan = run_plan(recipe, tasks, data_spec, work, options)
        log.info("mix plan: %s", {k: mix_plan[k] for k in ("available", "selected")})
        run_build(recipe, tasks, data_spec, mix_plan, work, options)
        return finalize(recipe, data_spec, mix_plan, work, final, overwrite)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
