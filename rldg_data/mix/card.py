"""The dataset card (README.md in the dataset folder) of a mix, rendered from card_template.md."""

from __future__ import annotations

import json
from pathlib import Path

from rldg_data.mix.recipe import Recipe
from rldg_data.stats.accumulators import STATS_FILE

TEMPLATE = Path(__file__).with_name("card_template.md")
CARD_FILE = "README.md"


def render_card(recipe: Recipe, info: dict, stats: dict | None) -> str:
    """Markdown card: sources, counts per source/variant, recipe, statistics, success rates."""
    source_rows, variant_rows, cleaning_rows = [], [], []
    for source in recipe.sources:
        s = info["sources"][source.name]
        splits = ", ".join(f"{k}={v}" for k, v in s["by_split"].items()) or "-"
        source_rows.append(f"| {source.name} | `{source.path}` | {source.weight if source.weight is not None else '-'} "
                           f"| {source.count if source.count is not None else '-'} | {s['available']} "
                           f"| {s['selected']} | {s['duplicates_dropped']} | {s['steps']} | {s.get('steps_removed', 0)} "
                           f"| {s['success_rate']:.1%} | {splits} |")
        variant_rows += [f"| {source.name} | {k} | {v} |" for k, v in s["by_variant"].items()]
        cleaning_rows += _cleaning_rows(source, s)
    stats_rows = []
    for key in ("action", "proprio"):
        field = (stats or {}).get(key) or {}
        for d, mean in enumerate(field.get("mean", [])):
            stats_rows.append(f"| {key} | {d} | {mean:.4g} | {field['std'][d]:.4g} | {field['q01'][d]:.4g} "
                              f"| {field['q99'][d]:.4g} | {field['mask'][d]} |")
    return TEMPLATE.read_text().format(
        name=recipe.name, version=recipe.version, recipe_hash=recipe.hash, seed=recipe.seed,
        val_fraction=recipe.val_fraction, description=recipe.description,
        num_episodes=info["num_episodes"], num_steps=info["num_steps"], success_rate=info["success_rate"],
        digest=info["digest"], source_rows="\n".join(source_rows) or "| - |",
        variant_rows="\n".join(variant_rows) or "| - |",
        cleaning_rows="\n".join(cleaning_rows) or "| - |", stats_rows="\n".join(stats_rows) or "| - |",
        recipe_json=json.dumps(info["recipe"], indent=2, sort_keys=True))


def _cleaning_rows(source, info: dict) -> list[str]:
    """One row per segment (step source) of a recipe source: steps kept, steps its relabels removed."""
    relabels = ", ".join(k for k, v in (("trim_pauses", source.relabels.trim_pauses),
                                        ("actions", source.relabels.actions is not None)) if v) or "none"
    kept, removed = info.get("steps_by_segment", {}), info.get("removed_by_segment", {})
    rows = []
    for segment in sorted(set(kept) | set(removed)):
        k, r = kept.get(segment, 0), removed.get(segment, 0)
        share = f"{r / (k + r):.1%}" if k + r else "-"
        rows.append(f"| {source.name} | {segment} | {relabels} | {k + r} | {r} | {share} | {k} |")
    return rows


def write_card(folder: str | Path, recipe: Recipe, info: dict) -> Path:
    """Writes README.md into a dataset folder (reads its dataset_statistics.json if present)."""
    folder = Path(folder)
    stats_path = folder / STATS_FILE
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else None
    path = folder / CARD_FILE
    path.write_text(render_card(recipe, info, stats))
    return path
