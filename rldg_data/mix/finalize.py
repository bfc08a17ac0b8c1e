"""After the Beam run: parts -> TFDS shards, TFDS metadata, rldg_info.json, the card, publish."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
from pathlib import Path

from rldg_data.contract import spec
from rldg_data.contract.tfds_json import write_metadata
from rldg_data.mix import shard_io
from rldg_data.errors import ContractError, DatasetError
from rldg_data.mix.card import write_card
from rldg_data.mix.episode_index import INDEX_FILE, EpisodeIndex, SourceTally, index_parts
from rldg_data.mix.recipe import Recipe
from rldg_data.io.writer import RLDG_INFO_FILE, publish, shard_name


def assemble(recipe: Recipe, mix_plan: dict, work: Path, dataset_name: str) -> tuple[list, dict]:
    """Renames the pipeline's parts in `work` into TFDS shards `<dataset_name>-<split>.tfrecord-i-of-n`
    (task order), writes `rldg_info.json`, the episode index and the card; returns ((split, records
    per shard, bytes) per split, rldg_info). Per-episode rows stream through disk
    (`episode_index`): the driver's memory does not grow with the number of episodes."""
    parts = [p for p in shard_io.list_parts(work) if p["count"]]
    if not parts:
        raise DatasetError(f"recipe {recipe.name!r} selected no episodes (plan: {mix_plan['available'] or 0} "
                           f"available per source); loosen its filters")
    index = index_parts(((p["split"], Path(p["sidecar"])) for p in parts), work)
    if mix_plan["available"] is None:  # a one-source, keep-all recipe: no plan pass ran
        mix_plan = _plan_from_index(recipe, mix_plan, index)
    by_split: dict[str, list[dict]] = collections.defaultdict(list)
    for part in parts:
        by_split[part["split"]].append(part)
    splits = []
    for split, split_parts in sorted(by_split.items()):
        for i, part in enumerate(split_parts):
            os.replace(part["file"], work / shard_name(dataset_name, split, i, len(split_parts)))
            os.remove(part["sidecar"])
        splits.append((split, [p["count"] for p in split_parts],
                       int(sum(p["num_bytes"] for p in split_parts))))
    info = mix_info(recipe, mix_plan, index)
    (work / RLDG_INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True))
    write_card(work, recipe, info)
    return splits, info


def _plan_from_index(recipe: Recipe, mix_plan: dict, index: EpisodeIndex) -> dict:
    """Counts of a one-pass build, and its check that no episode_id repeats inside the source."""
    source = recipe.sources[0]
    if index.first_duplicate is not None:
        raise ContractError("duplicate episode_id inside one source", episode_id=index.first_duplicate,
                            file=source.location or source.path,
                            field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}")
    return dict(mix_plan, available={source.name: index.num_episodes}, selected={source.name: index.num_episodes})


def finalize(recipe: Recipe, data_spec: spec.DatasetSpec, mix_plan: dict, work: Path, final: Path,
             overwrite: bool, command: str = "rldg mix") -> Path:
    """Turns the pipeline's output folder `work` into a published TFDS dataset at `final` (TFDS's
    metadata written by `contract.tfds_json`: no TensorFlow Datasets import in `rldg mix`)."""
    splits, _ = assemble(recipe, mix_plan, work, recipe.name)
    write_metadata(work, data_spec, recipe.name, recipe.version,
                   recipe.description or f"RLDG mix {recipe.name} (recipe {recipe.hash[:12]})", splits)
    rate = shared_rate(recipe)
    if rate is not None:
        (work / "metadata.json").write_text(json.dumps({spec.RATE_KEY: rate}))
    return publish(work, final, overwrite, command, [src.path for src in recipe.sources])


def shared_rate(recipe: Recipe):
    """The recording rate (TFDS metadata.json `fps`, spec.RATE_KEY) every source records, or None
    when a source records none or they differ (a mix of 80 Hz and 10 Hz data has no one rate)."""
    from rldg_data.io.reader import resolve_dataset_dir

    rates = set()
    for source in recipe.sources:
        path = resolve_dataset_dir(source.location or source.path) / "metadata.json"
        try:
            rates.add(json.loads(path.read_text()).get(spec.RATE_KEY) if path.is_file() else None)
        except (OSError, ValueError):
            return None
    return rates.pop() if len(rates) == 1 and None not in rates else None


def mix_info(recipe: Recipe, mix_plan: dict, index: EpisodeIndex) -> dict:
    """rldg_info.json of a mix: digest, counts per source/variant/split, success rates, recipe.
    The episodes themselves are listed in `rldg_episodes.tsv` (`episode_index.INDEX_FILE`)."""
    per_source = {}
    for source in recipe.sources:
        tally = index.tallies.get(source.name, SourceTally())
        per_source[source.name] = {
            "available": mix_plan["available"][source.name],
            "selected": tally.selected,
            "duplicates_dropped": mix_plan["duplicates_dropped"][source.name],
            "steps": tally.steps,
            "steps_removed": tally.steps_removed,  # by the relabels (trim_pauses), on the selected episodes
            "success_rate": tally.successes / tally.selected if tally.selected else 0.0,
            "steps_by_segment": dict(sorted(tally.steps_by_segment.items())),
            "removed_by_segment": dict(sorted(tally.removed_by_segment.items())),
            "by_variant": dict(sorted(tally.by_variant.items())),
            "by_split": dict(sorted(tally.by_split.items())),
        }
    recipe_dict = dataclasses.asdict(recipe)
    for s in recipe_dict["sources"]:
        s.pop("location")
    return {
        "name": recipe.name, "version": recipe.version, "recipe_hash": recipe.hash, "recipe": recipe_dict,
        "num_episodes": index.num_episodes, "num_steps": index.num_steps, "digest": index.digest,
        "episode_index": INDEX_FILE, "sources": per_source, "success_rate": index.success_rate,
    }
