"""After the Beam run: parts -> TFDS shards, TFDS metadata, rldg_info.json, the card, publish."""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

from rldg_data.contract import spec
from rldg_data.contract.tfds_json import write_metadata
from rldg_data.mix import shard_io
from rldg_data.errors import ContractError, DatasetError
from rldg_data.mix.recipe import Recipe
from rldg_data.io.writer import RLDG_INFO_FILE, dataset_digest, publish, shard_name


def assemble(recipe: Recipe, mix_plan: dict, work: Path, dataset_name: str) -> tuple[list, dict]:
    """Renames the pipeline's parts in `work` into TFDS shards `<dataset_name>-<split>.tfrecord-i-of-n`
    (task order), writes `rldg_info.json` and the card; returns ((split, records per shard, bytes)
    per split, rldg_info)."""
    parts = [p for p in shard_io.list_parts(work) if p["episodes"]]
    if not parts:
        raise DatasetError(f"recipe {recipe.name!r} selected no episodes (plan: {mix_plan['available'] or 0} "
                           f"available per source); loosen its filters")
    if mix_plan["available"] is None:  # a one-source, keep-all recipe: no plan pass ran
        mix_plan = _plan_from_parts(recipe, mix_plan, parts)
    by_split: dict[str, list[dict]] = collections.defaultdict(list)
    for part in parts:
        by_split[part["split"]].append(part)
    splits, rows = [], []
    for split, split_parts in sorted(by_split.items()):
        for i, part in enumerate(split_parts):
            os.replace(part["file"], work / shard_name(dataset_name, split, i, len(split_parts)))
            os.remove(Path(part["file"]).with_suffix(".json"))
            rows += [dict(r, dataset_split=split) for r in part["episodes"]]
        splits.append((split, [len(p["episodes"]) for p in split_parts],
                       int(sum(p["num_bytes"] for p in split_parts))))
    info = mix_info(recipe, mix_plan, rows)
    (work / RLDG_INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True))
    from rldg_data.mix.card import write_card

    write_card(work, recipe, info)
    return splits, info


def _plan_from_parts(recipe: Recipe, mix_plan: dict, parts: list[dict]) -> dict:
    """Counts of a one-pass build, and its check that no episode_id repeats inside the source."""
    ids = collections.Counter(r["episode_id"] for part in parts for r in part["episodes"])
    repeated = [i for i, n in ids.items() if n > 1]
    if repeated:
        source = recipe.sources[0]
        raise ContractError("duplicate episode_id inside one source", episode_id=sorted(repeated)[0],
                            file=source.location or source.path,
                            field=f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}")
    name = recipe.sources[0].name
    return dict(mix_plan, available={name: len(ids)}, selected={name: len(ids)})


def finalize(recipe: Recipe, data_spec: spec.DatasetSpec, mix_plan: dict, work: Path, final: Path,
             overwrite: bool) -> Path:
    """Turns the pipeline's output folder `work` into a published TFDS dataset at `final` (TFDS's
    metadata written by `contract.tfds_json`: no TensorFlow Datasets import in `rldg mix`)."""
    splits, _ = assemble(recipe, mix_plan, work, recipe.name)
    write_metadata(work, data_spec, recipe.name, recipe.version,
                   recipe.description or f"RLDG mix {recipe.name} (recipe {recipe.hash[:12]})", splits)
    return publish(work, final, overwrite)


def mix_info(recipe: Recipe, mix_plan: dict, rows: list[dict]) -> dict:
    """rldg_info.json of a mix: digest, counts per source/variant/split, success rates, recipe."""
    import dataclasses

    per_source = {}
    for source in recipe.sources:
        mine = [r for r in rows if r["source"] == source.name]
        per_source[source.name] = {
            "available": mix_plan["available"][source.name],
            "selected": len(mine),
            "duplicates_dropped": mix_plan["duplicates_dropped"][source.name],
            "steps": sum(r["length"] for r in mine),
            "success_rate": (sum(r["success"] for r in mine) / len(mine)) if mine else 0.0,
            "by_variant": dict(sorted(collections.Counter(f"{r['task']}/{r['variant']}" for r in mine).items())),
            "by_split": dict(sorted(collections.Counter(r["dataset_split"] for r in mine).items())),
        }
    recipe_dict = dataclasses.asdict(recipe)
    for s in recipe_dict["sources"]:
        s.pop("location")
    return {
        "name": recipe.name, "version": recipe.version, "recipe_hash": recipe.hash, "recipe": recipe_dict,
        "num_episodes": len(rows), "num_steps": sum(r["length"] for r in rows),
        "digest": dataset_digest((r["episode_id"], r["sha256"]) for r in rows),
        "episode_ids": sorted(r["episode_id"] for r in rows),
        "sources": per_source,
        "success_rate": (sum(r["success"] for r in rows) / len(rows)) if rows else 0.0,
    }
