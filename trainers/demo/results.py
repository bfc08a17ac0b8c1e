"""The demo's results as data: the comparison table with intervals, the gaps between datasets, the
cycle-time ratio, the relabel ablation, the data-efficiency summary and the paper's findings
beside ours (pure functions).

`comparison_table` turns raw evaluations into table[dataset][task][split] = {successes, episodes,
success_rate, ci95, median_cycle_time}; every rate carries its n and 95% Wilson interval, every
gap Newcombe's interval and a two-proportion test (`trainers.generalist.intervals`). A gap is
*called* (RLDG > human) only when the two Wilson intervals do not overlap. Nothing here reads
files or draws.
"""

from __future__ import annotations

import statistics
from typing import Any, Optional

from trainers.generalist.intervals import difference, fmt_gap, fmt_rate, median_interval, rate

SPLITS = ("seen", "unseen")
DATASET_LABELS = {
    "rl": "RL specialists only",
    "human": "human proxy only",
    "human_trimmed": "human, pauses removed",
    "rldg": "RLDG mix",
    "relabeled": "human states + RL actions (ablation)",
    "rl_vs_human": "RL and human data side by side",
}
COMPARED = ("rldg", "rl", "relabeled", "human_trimmed")  # each against raw human data


def median_or_none(values) -> Optional[float]:
    values = list(values)
    return float(statistics.median(values)) if values else None


def rate_cell(result: dict) -> dict:
    """A rate dict (n, Wilson interval) of one evaluation row, plus its median cycle time."""
    n, k = int(result["episodes"]), result.get("successes")
    k = int(round(result["success_rate"] * n)) if k is None else int(k)
    return {**rate(k, n), "median_cycle_time": result.get("median_cycle_time")}


def comparison_table(evaluations: dict) -> dict:
    """table[dataset][task][split] from evaluations[dataset][task] (`rldg generalist eval` JSON)."""
    table: dict[str, dict] = {}
    for dataset, tasks in evaluations.items():
        for task, result in tasks.items():
            for split in SPLITS:
                cell = result["splits"].get(split)
                table.setdefault(dataset, {}).setdefault(task, {})[split] = None if cell is None else rate_cell(cell)
    return table


def _get(table: dict, dataset: str, task: str, split: str) -> Optional[dict]:
    return ((table.get(dataset) or {}).get(task) or {}).get(split)


def gaps(table: dict) -> dict:
    """gaps[dataset][task][split]: dataset minus raw human data (gap, 95% interval, p-value,
    whether the Wilson intervals overlap, and `called`: higher with non-overlapping intervals)."""
    out: dict[str, dict] = {}
    for dataset in COMPARED:
        for task in (table.get(dataset) or {}):
            for split in SPLITS:
                a, b = _get(table, dataset, task, split), _get(table, "human", task, split)
                if a and b:
                    d = difference(a["successes"], a["episodes"], b["successes"], b["episodes"])
                    d["called"] = d["gap"] > 0 and not d["intervals_overlap"]
                    out.setdefault(dataset, {}).setdefault(task, {})[split] = d
    return out


def cycle_times(evaluations: dict) -> dict:
    """Per task: median steps of the successful seen episodes, RL data vs human data (the
    pause-trimmed human row when raw human data never succeeded), and their ratio."""
    out = {}
    for task in (evaluations.get("rl") or {}):
        steps = {d: _successful_steps(evaluations, d, task, "seen") for d in ("rl", "human", "human_trimmed")}
        human = "human" if steps["human"] else "human_trimmed"
        rl_t, human_t = median_or_none(steps["rl"]), median_or_none(steps[human])
        out[task] = {"rl_median": rl_t, "human_median": human_t, "human_dataset": human,
                     "rl_successes": len(steps["rl"]), "human_successes": len(steps[human]),
                     "ratio": round(rl_t / human_t, 3) if rl_t and human_t else None}
    return out


def stage_table(evaluations: dict) -> dict:
    """stages[dataset][task][split] = {stage name: rate dict, "order": stage names} for multi-stage
    tasks: the episodes
    that finished each stage (grasped / transported / inserted), so a reader sees where each
    dataset's generalist fails."""
    out: dict[str, dict] = {}
    for dataset, tasks in evaluations.items():
        for task, result in tasks.items():
            for split in SPLITS:
                cell = result.get("splits", {}).get(split) or {}
                if cell.get("stages"):
                    stages = cell["stages"]
                    out.setdefault(dataset, {}).setdefault(task, {})[split] = {
                        "order": list(cell["stage_names"]),
                        **{name: rate(int(stages[name]["successes"]), int(stages[name]["episodes"]))
                           for name in cell["stage_names"]}}
    return out


def handoff_comparison(table: dict, evaluations: dict, tasks=("assembly",)) -> dict:
    """Use case 2 (RL on the bottleneck only): per hand-off task and split, the RLDG hand-off
    generalist against human data with pauses removed (the honest baseline): both rates, the gap
    with its interval, the median cycle times of the successful episodes with their
    distribution-free 95% intervals, and `shorter_called`: RLDG's interval wholly below human's."""
    out: dict[str, dict] = {}
    for task in tasks:
        for split in SPLITS:
            a, b = _get(table, "rldg", task, split), _get(table, "human_trimmed", task, split)
            if not (a and b):
                continue
            d = difference(a["successes"], a["episodes"], b["successes"], b["episodes"])
            steps = {k: _successful_steps(evaluations, k, task, split) for k in ("rldg", "human_trimmed")}
            ci = {k: median_interval(v) for k, v in steps.items()}
            out.setdefault(task, {})[split] = {
                "rldg": a, "human_trimmed": b, "gap": d, "called": d["gap"] > 0 and not d["intervals_overlap"],
                "median_cycle_time": {"rldg": a["median_cycle_time"], "human_trimmed": b["median_cycle_time"]},
                "median_ci95": {k: list(v) if v else None for k, v in ci.items()},
                "shorter_called": bool(ci["rldg"] and ci["human_trimmed"] and ci["rldg"][1] < ci["human_trimmed"][0])}
    return out


def _successful_steps(evaluations: dict, dataset: str, task: str, split: str) -> list:
    """Steps of every successful episode of one generalist's evaluation on one split."""
    cell = (((evaluations.get(dataset) or {}).get(task) or {}).get("splits") or {}).get(split) or {}
    return list(cell.get("successful_steps") or [])


def relabel_ablation(table: dict) -> dict:
    """Per task (seen variants): human, relabeled and RL rates with intervals, and the share of
    the RL - human gap that relabeling human states with specialist actions closes."""
    out = {}
    for task in (table.get("relabeled") or {}):
        h, r, rl = (_get(table, d, task, "seen") for d in ("human", "relabeled", "rl"))
        if not (h and r and rl):
            continue
        gap = rl["success_rate"] - h["success_rate"]
        out[task] = {"human": h, "relabeled": r, "rl": rl,
                     "relabeled_minus_human": difference(r["successes"], r["episodes"], h["successes"], h["episodes"]),
                     "share_of_gap_closed": round((r["success_rate"] - h["success_rate"]) / gap, 3) if gap > 0 else None}
    return out


def efficiency_summary(efficiency: dict) -> dict:
    """Per source: the best success (with its interval) and the fewest episodes reaching it; and
    how many RL episodes reach the success human data reaches with its largest size."""
    out: dict[str, Any] = {}
    cells = {src: {int(n): rate_cell(r) for n, r in sizes.items()} for src, sizes in efficiency.get("sizes", {}).items() if sizes}
    for source, sizes in cells.items():
        best = max(c["success_rate"] for c in sizes.values())
        first = min(n for n, c in sizes.items() if c["success_rate"] == best)
        out[source] = {"best_success": best, "episodes_to_best": first, "best": sizes[first]}
    if "rl" in cells and "human" in cells:
        largest = max(cells["human"])
        target = cells["human"][largest]
        reach = [n for n in sorted(cells["rl"]) if cells["rl"][n]["success_rate"] >= target["success_rate"]]
        out["rl_to_match_human"] = {
            "human_episodes": largest, "human": target,
            "rl_episodes": reach[0] if reach else None, "rl": cells["rl"][reach[0]] if reach else None}
    return out


def _mean_rate(table: dict, dataset: str, split: str, tasks=None) -> Optional[dict]:
    """Pooled successes over the tasks' cells (a rate dict) or None."""
    cells = [t[split] for name, t in table.get(dataset, {}).items()
             if (tasks is None or name in tasks) and t.get(split)]
    if not cells:
        return None
    return rate(sum(c["successes"] for c in cells), sum(c["episodes"] for c in cells))


def _gap_text(a: Optional[dict], b: Optional[dict]) -> str:
    if not a or not b:
        return "n/a"
    d = difference(a["successes"], a["episodes"], b["successes"], b["episodes"])
    verdict = "intervals do not overlap" if not d["intervals_overlap"] else "intervals overlap"
    return f"{fmt_gap(d)}; {verdict}"


def paper_rows(table: dict, efficiency: dict, specialist_generalization: dict,
               evaluations: Optional[dict] = None, seeds: Optional[dict] = None) -> list[dict[str, Any]]:
    """The RLDG paper's findings, each beside what this run measured (one row each); `seeds`
    (`seed_table`) adds each training seed's share of the gap to the relabel ablation's row."""
    rows = []
    for split in SPLITS:
        rldg, human = _mean_rate(table, "rldg", split), _mean_rate(table, "human", split)
        rows.append({
            "finding": f"RLDG beats fine-tuning on human data, up to +40% success (OpenVLA: +23% "
                       f"connector insertion, +33% FMB insertion) — {split} variants",
            "paper": "up to +40 points",
            "ours": f"RLDG mix {fmt_rate(rldg)} vs human {fmt_rate(human)}: {_gap_text(rldg, human)}"})
    eff = efficiency_summary(efficiency)
    match = eff.get("rl_to_match_human")
    text = "; ".join(f"{src}: best {fmt_rate(v['best'])} first reached with {v['episodes_to_best']} episodes"
                     for src, v in sorted(eff.items()) if src in ("rl", "human")) or "n/a"
    if match:
        text += (f"; human data with {match['human_episodes']} episodes: {fmt_rate(match['human'])}, reached by RL "
                 + (f"data with {match['rl_episodes']} episodes ({fmt_rate(match['rl'])})" if match["rl_episodes"]
                    else "data at no size tried"))
    rows.append({"finding": "Data efficiency: a seen connector reached 100% with 45 RL episodes; human data needed 300",
                 "paper": "45 RL vs 300 human episodes", "ours": text})
    pp_seen, pp_unseen = [], []
    for key, rows_by_variant in specialist_generalization.items():
        if key.startswith("pick_place/"):
            own = key.split("/", 1)[1]
            for variant, r in rows_by_variant.items():
                (pp_seen if variant == own else pp_unseen).append(r["success_rate"])
    spec_seen = sum(pp_seen) / len(pp_seen) if pp_seen else None
    spec_unseen = sum(pp_unseen) / len(pp_unseen) if pp_unseen else None
    pct = (lambda v: "n/a" if v is None else f"{100 * v:.0f}%")
    rows.append({
        "finding": "The distilled generalist succeeds on unseen pick-and-place where its specialist "
                   "mostly fails (specialist 20/20 seen, 1/20 unseen)",
        "paper": "specialist 100% seen, 5% unseen",
        "ours": (f"specialist {pct(spec_seen)} seen, {pct(spec_unseen)} unseen (reads privileged state; the "
                 f"paper's reads images); RLDG generalist {fmt_rate(_get(table, 'rldg', 'pick_place', 'unseen'))} "
                 "unseen (reads images, proprioception and language); per variant: the pick-and-place table")
        if pp_seen else "pick-and-place not run in this profile"})
    times = cycle_times(evaluations or {})
    rows.append({
        "finding": "Policies trained on RL data have shorter cycle times",
        "paper": "shorter with RL data",
        "ours": "; ".join(f"{task}: median steps of successful seen episodes, RL data {t['rl_median']} "
                          f"(n={t['rl_successes']}) vs {t['human_dataset'].replace('_', ' ')} data {t['human_median']} "
                          f"(n={t['human_successes']})" + (f", ratio {t['ratio']:.2f}" if t["ratio"] else "")
                          for task, t in times.items()) or "n/a"})
    handoff = handoff_comparison(table, evaluations or {})
    rows.append({
        "finding": "RL on the bottleneck only (use case 2, FMB assembly): human demonstrations for the easy "
                   "stages and specialist rollouts for the bottleneck beat human data on the whole task",
        "paper": "RLDG above human data",
        "ours": "; ".join(f"{task} {split}: RLDG hand-off {fmt_rate(c['rldg'])} vs human {fmt_rate(_get(table, 'human', task, split))}"
                          f", vs human with pauses removed {fmt_rate(c['human_trimmed'])} ({fmt_gap(c['gap'])}"
                          f"{', called' if c['called'] else ', not called'}); median steps "
                          f"{c['median_cycle_time']['rldg'] or '-'} vs {c['median_cycle_time']['human_trimmed'] or '-'}"
                          for task, by_split in handoff.items() for split, c in by_split.items())
                or "assembly not run in this profile"})
    ablation = relabel_ablation(table)
    rows.append({
        "finding": "Relabeling human states with RL actions closes most of the gap (ablation)",
        "paper": "most of the gap closed",
        "ours": "; ".join(f"{task} seen: human {fmt_rate(a['human'])}, relabeled {fmt_rate(a['relabeled'])}, RL "
                          f"{fmt_rate(a['rl'])}; share of the RL-human gap closed: "
                          + (f"{100 * a['share_of_gap_closed']:.0f}%" if a["share_of_gap_closed"] is not None else "n/a (no gap)")
                          + _share_by_seed_text((relabel_ablation_by_seed(table, seeds) if seeds else {}).get(task))
                          for task, a in ablation.items()) or "n/a"})
    return rows


def _share_by_seed_text(by_seed: Optional[dict]) -> str:
    if not by_seed:
        return ""
    pct = (lambda v: "n/a" if v is None else f"{100 * v:.0f}%")
    return (" (training seed " + ", ".join(f"{k}: {pct(v)}" for k, v in by_seed["share_by_seed"].items())
            + f"; pooled over seeds {pct(by_seed['pooled_share'])})")


# ---- several training seeds on one dataset ---------------------------------------------------

POOLED_NOTE = ("pooled: every seed's episodes together; its interval counts them as independent, so it "
               "understates what the seeds' spread shows (the same evaluation episodes, other weights)")


def seed_table(seed_evaluations: dict) -> dict:
    """seeds[dataset][task][split] = {"seeds": {seed: rate cell}, "pooled": rate dict, "min", "max",
    "spread_points"} from seed_evaluations[dataset][task][seed] (one generalist per training seed,
    all on the same dataset and the same evaluation episodes): the spread is optimisation luck."""
    out: dict[str, dict] = {}
    for dataset, tasks in seed_evaluations.items():
        for task, by_seed in tasks.items():
            for split in SPLITS:
                cells = {s: rate_cell(r["splits"][split]) for s, r in by_seed.items() if r["splits"].get(split)}
                if not cells:
                    continue
                rates = [c["success_rate"] for c in cells.values()]
                out.setdefault(dataset, {}).setdefault(task, {})[split] = {
                    "seeds": cells,
                    "pooled": rate(sum(c["successes"] for c in cells.values()), sum(c["episodes"] for c in cells.values())),
                    "min": min(rates), "max": max(rates), "spread_points": round(100 * (max(rates) - min(rates)), 1)}
    return out


def _by_seed(seeds: dict, table: dict, dataset: str, task: str, split: str) -> dict:
    """{seed: cell} of one row: its training seeds where it has several, else its one main-table cell."""
    row = ((seeds.get(dataset) or {}).get(task) or {}).get(split)
    if row:
        return dict(row["seeds"])
    cell = _get(table, dataset, task, split)
    return {"*": cell} if cell else {}


def _pair(a: dict, b: dict) -> list[tuple[str, dict, dict]]:
    """(seed, a cell, b cell) pairs: the same training seed where both rows have it; a row with one
    generalist is paired with every seed of the other."""
    if "*" in a and "*" in b:
        return [("*", a["*"], b["*"])]
    keys = [k for k in (a if "*" not in a else b) if k != "*"]
    return [(k, a.get(k, a.get("*")), b.get(k, b.get("*"))) for k in keys if a.get(k, a.get("*")) and b.get(k, b.get("*"))]


def seed_gaps(table: dict, seeds: dict, baseline: str = "human",
              compared: tuple[str, ...] = COMPARED) -> dict:
    """Per compared dataset, task and split: its gap to the `baseline` dataset (raw human data by
    default; "human_trimmed" for the strongest human baseline) in every training seed (points),
    their range, and whether the sign holds in every seed (a data effect) or changes with the seed
    (optimisation luck at this budget)."""
    labels = {"human": "human", "human_trimmed": "cleaned human"}
    if baseline not in labels:
        raise ValueError(f"seed_gaps: baseline must be one of {sorted(labels)}, got {baseline!r}")
    label = labels[baseline]
    out: dict[str, dict] = {}
    for dataset in (d for d in compared if d != baseline):
        for task in (table.get(dataset) or {}):
            for split in SPLITS:
                a, b = _by_seed(seeds, table, dataset, task, split), _by_seed(seeds, table, baseline, task, split)
                pairs = _pair(a, b)
                if len(pairs) < 2:
                    continue  # one generalist on each side: the main table's gap says it all
                by_seed = {k: round(100 * (x["success_rate"] - y["success_rate"]), 1) for k, x, y in pairs}
                values = list(by_seed.values())
                verdict = _verdict(values, label)
                out.setdefault(dataset, {}).setdefault(task, {})[split] = {
                    "gap_points": by_seed, "min": min(values), "max": max(values), "verdict": verdict}
    return out


def _verdict(values: list[float], label: str = "human") -> str:
    """What the signs of a gap's per-seed values say (a gap of exactly 0 is neither sign)."""
    if min(values) > 0:
        return f"above {label} in every seed"
    if max(values) < 0:
        return f"below {label} in every seed"
    if min(values) == max(values) == 0:
        return "no gap in any seed"
    if min(values) >= 0:
        return f"above {label} or equal in every seed"
    if max(values) <= 0:
        return f"below {label} or equal in every seed"
    return "sign changes with the seed"


def relabel_ablation_by_seed(table: dict, seeds: dict) -> dict:
    """Per task (seen variants): the share of the RL - human gap the relabeled data close, in every
    training seed (paired by seed; a row with one generalist is used for every seed) and pooled."""
    out = {}
    for task in (table.get("relabeled") or {}):
        h, r, rl = (_by_seed(seeds, table, d, task, "seen") for d in ("human", "relabeled", "rl"))
        if not (h and r and rl) or all(len(x) == 1 for x in (h, r, rl)):
            continue
        keys = sorted({k for x in (h, r, rl) for k in x if k != "*"}, key=int)
        shares = {}
        for k in keys:
            hk, rk, lk = (x.get(k, x.get("*")) for x in (h, r, rl))
            if hk and rk and lk:
                gap = lk["success_rate"] - hk["success_rate"]
                shares[k] = round((rk["success_rate"] - hk["success_rate"]) / gap, 3) if gap > 0 else None
        pooled = {d: _pooled(seeds, table, d, task) for d in ("human", "relabeled", "rl")}
        gap = pooled["rl"]["success_rate"] - pooled["human"]["success_rate"]
        known = [v for v in shares.values() if v is not None]
        out[task] = {"share_by_seed": shares, "pooled": pooled,
                     "pooled_share": round((pooled["relabeled"]["success_rate"] - pooled["human"]["success_rate"])
                                           / gap, 3) if gap > 0 else None,
                     "min": min(known) if known else None, "max": max(known) if known else None}
    return out


def _pooled(seeds: dict, table: dict, dataset: str, task: str, split: str = "seen") -> dict:
    row = ((seeds.get(dataset) or {}).get(task) or {}).get(split)
    return row["pooled"] if row else _get(table, dataset, task, split)


# ---- pick-and-place: specialists and generalists on unseen objects and backgrounds -----------

def inputs_note(image_size: int) -> str:
    """Which inputs each policy of the pick-and-place comparison sees (the paper's differ)."""
    return (f"Inputs: our specialists read the simulator's privileged state (gripper, object and target "
            f"poses), no pixels; the generalists read {image_size}x{image_size} main-camera images + "
            f"proprioception + the language instruction, never privileged state. The paper's specialists "
            f"read images, so its specialist-vs-generalist gap on unseen objects is an image policy's; ours "
            f"compares a state policy with an image policy.")


def pick_place_generalization(evaluations: dict, specialist_generalization: dict) -> dict:
    """Success per pick-and-place variant, the specialists (each on its own object and on the
    unseen objects/backgrounds) beside every generalist row (all variants it was evaluated on),
    each a rate dict with its 95% Wilson interval; {} when the profile ran no pick-and-place."""
    specialists = {}
    for key, rows in specialist_generalization.items():
        if key.startswith("pick_place/"):
            specialists[key.split("/", 1)[1]] = {
                v: rate(int(round(r["success_rate"] * int(r["episodes"]))), int(r["episodes"]))
                for v, r in rows.items() if r.get("episodes")}
    generalists = {d: {v: rate_cell(r) for v, r in tasks["pick_place"].get("variants", {}).items()}
                   for d, tasks in evaluations.items() if "pick_place" in tasks}
    if not specialists and not generalists:
        return {}
    variants = list(dict.fromkeys([v for rows in specialists.values() for v in rows]
                                  + [v for rows in generalists.values() for v in rows]))
    splits = {v: (next((r["split"] for t in evaluations.values() if "pick_place" in t
                        for name, r in t["pick_place"].get("variants", {}).items() if name == v), None)
                  or ("seen" if v in specialists else "unseen")) for v in variants}
    return {"variants": variants, "split": splits, "specialists": specialists, "generalists": generalists}
