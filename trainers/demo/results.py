"""The demo's results as data: the comparison table, the paper's findings beside ours (pure functions).

`comparison_table` turns raw evaluations into table[dataset][task][split] = {success_rate,
median_cycle_time, episodes}; `paper_rows` sets each of the RLDG paper's findings beside the number
this run measured for it. Nothing here reads files or draws.
"""

from __future__ import annotations

import statistics
from typing import Any, Optional

SPLITS = ("seen", "unseen")
DATASET_LABELS = {
    "rl": "RL specialists only",
    "human": "human proxy only",
    "rldg": "RLDG mix",
    "relabeled": "human states + RL actions (ablation)",
    "rl_vs_human": "RL and human data side by side",
}


def comparison_table(evaluations: dict) -> dict:
    """table[dataset][task][split] from evaluations[dataset][task] (`rldg generalist eval` JSON)."""
    table: dict[str, dict] = {}
    for dataset, tasks in evaluations.items():
        for task, result in tasks.items():
            for split in SPLITS:
                cell = result["splits"].get(split)
                table.setdefault(dataset, {}).setdefault(task, {})[split] = None if cell is None else {
                    "success_rate": cell["success_rate"], "median_cycle_time": cell["median_cycle_time"],
                    "episodes": cell["episodes"]}
    return table


def _mean_success(table: dict, dataset: str, split: str, tasks=None) -> Optional[float]:
    cells = [t[split] for name, t in table.get(dataset, {}).items()
             if (tasks is None or name in tasks) and t.get(split)]
    return sum(c["success_rate"] for c in cells) / len(cells) if cells else None


def median_or_none(values) -> Optional[float]:
    values = list(values)
    return float(statistics.median(values)) if values else None


def _median_time(table: dict, dataset: str, split: str) -> Optional[float]:
    return median_or_none(t[split]["median_cycle_time"] for t in table.get(dataset, {}).values()
                          if t.get(split) and t[split]["median_cycle_time"] is not None)


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _delta(a: Optional[float], b: Optional[float]) -> str:
    return "n/a" if a is None or b is None else f"{100 * (a - b):+.0f} points"


def efficiency_summary(efficiency: dict) -> dict:
    """Per source: the smallest number of episodes reaching that source's best success rate."""
    out = {}
    for source, sizes in efficiency.get("sizes", {}).items():
        if not sizes:
            continue
        best = max(r["success_rate"] for r in sizes.values())
        first = min(int(n) for n, r in sizes.items() if r["success_rate"] == best)
        out[source] = {"best_success": best, "episodes_to_best": first}
    return out


def paper_rows(table: dict, efficiency: dict, specialist_generalization: dict) -> list[dict[str, Any]]:
    """The RLDG paper's findings, each beside what this run measured (one row each)."""
    rows = []
    for split in SPLITS:
        rows.append({
            "finding": f"RLDG beats fine-tuning on human data, up to +40% success (OpenVLA: +23% "
                       f"connector insertion, +33% FMB insertion) — {split} variants",
            "paper": "up to +40 points",
            "ours": f"RLDG mix {_pct(_mean_success(table, 'rldg', split))} vs human "
                    f"{_pct(_mean_success(table, 'human', split))} "
                    f"({_delta(_mean_success(table, 'rldg', split), _mean_success(table, 'human', split))}); "
                    f"insertion only: {_delta(_mean_success(table, 'rldg', split, ['insertion']), _mean_success(table, 'human', split, ['insertion']))}"})
    eff = efficiency_summary(efficiency)
    rows.append({
        "finding": "Data efficiency: a seen connector reached 100% with 45 RL episodes; human data needed 300",
        "paper": "45 RL vs 300 human episodes",
        "ours": "; ".join(f"{src}: best {_pct(v['best_success'])} first reached with {v['episodes_to_best']} "
                          f"episodes" for src, v in sorted(eff.items())) or "n/a"})
    pp_seen, pp_unseen = [], []
    for key, rows_by_variant in specialist_generalization.items():
        if key.startswith("pick_place/"):
            own = key.split("/", 1)[1]
            for variant, r in rows_by_variant.items():
                (pp_seen if variant == own else pp_unseen).append(r["success_rate"])
    spec_seen = sum(pp_seen) / len(pp_seen) if pp_seen else None
    spec_unseen = sum(pp_unseen) / len(pp_unseen) if pp_unseen else None
    gen_unseen = (table.get("rldg", {}).get("pick_place", {}).get("unseen") or {}).get("success_rate")
    rows.append({
        "finding": "The distilled generalist succeeds on unseen pick-and-place where its specialist "
                   "mostly fails (specialist 20/20 seen, 1/20 unseen)",
        "paper": "specialist 100% seen, 5% unseen",
        "ours": f"specialist {_pct(spec_seen)} seen, {_pct(spec_unseen)} unseen (state-based); "
                f"RLDG generalist {_pct(gen_unseen)} unseen"})
    rl_t, human_t = _median_time(table, "rl", "seen"), _median_time(table, "human", "seen")
    rows.append({
        "finding": "Policies trained on RL data have shorter cycle times",
        "paper": "shorter with RL data",
        "ours": f"median cycle time (seen, successful episodes): RL data {rl_t if rl_t is not None else 'n/a'} "
                f"steps vs human data {human_t if human_t is not None else 'n/a'} steps"})
    rows.append({
        "finding": "Relabeling human states with RL actions closes most of the gap (ablation)",
        "paper": "most of the gap closed",
        "ours": f"seen success: human {_pct(_mean_success(table, 'human', 'seen'))}, relabeled "
                f"{_pct(_mean_success(table, 'relabeled', 'seen'))}, RL "
                f"{_pct(_mean_success(table, 'rl', 'seen'))}"})
    return rows
