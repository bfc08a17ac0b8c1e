"""The demo's outputs: results.json, figures (PNG) and report.html, written atomically into OUT.

The page is static (no scripts, figures linked relatively), like `rldg report`'s; the per-dataset
reports and dataset cards of `rldg report` are linked from it.
"""

from __future__ import annotations

import html
import json
import os
import platform
from pathlib import Path

from rldg_data.io.atomic import write_text_atomic
from robot_io.sim.variants import TASKS
from trainers.demo.profile import HANDOFF_TASKS, USE_CASE_2_ROWS, DemoProfile
from trainers.demo.results import (DATASET_LABELS, POOLED_NOTE, SPLITS, comparison_table, cycle_times,
                                   efficiency_summary, gaps, handoff_comparison, inputs_note, paper_rows,
                                   pick_place_generalization, relabel_ablation, relabel_ablation_by_seed,
                                   seed_gaps, seed_table, stage_table)
from trainers.demo.results import rate_cell
from trainers.generalist.intervals import fmt_gap, fmt_rate



def write_results(out: Path, profile: DemoProfile, data: dict) -> dict:
    """Writes OUT/results.json, OUT/figures/*.png and OUT/report.html; returns the results."""
    out = Path(out)
    table = comparison_table(data["evaluations"])
    seeds = seed_table(data.get("seed_evaluations") or {})
    results = {
        "profile": profile.to_dict(),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "table": table,
        "gaps_vs_human": gaps(table),
        "cycle_times": cycle_times(data["evaluations"]),
        "relabel_ablation": relabel_ablation(table),
        "stages": stage_table(data["evaluations"]),
        "handoff_vs_trimmed_human": handoff_comparison(table, data["evaluations"]),
        "paper_comparison": paper_rows(table, data["efficiency"], data["specialist_generalization"],
                                       data["evaluations"], seeds),
        "seed_table": seeds,
        "seed_gaps_vs_human": seed_gaps(table, seeds),
        "seed_gaps_vs_trimmed_human": seed_gaps(table, seeds, baseline="human_trimmed"),
        "relabel_ablation_by_seed": relabel_ablation_by_seed(table, seeds),
        "pick_place_generalization": pick_place_generalization(data["evaluations"],
                                                               data["specialist_generalization"]),
        "inputs": inputs_note(profile.image_size),
        "efficiency_summary": efficiency_summary(data["efficiency"]),
        **data,
    }
    write_text_atomic(out / "results.json", json.dumps(results, indent=2, sort_keys=True, default=str))
    figures = write_figures(out / "figures", results)
    write_text_atomic(out / "report.html", render_page(out, results, figures))
    write_text_atomic(out / "results.md", render_markdown(results))
    return results


def cpu_model() -> str:
    """The CPU's model name as `lscpu` shows it (a budget holds per machine kind: name it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _tasks(table: dict) -> list[str]:
    return [t for t in TASKS if any(t in table[d] for d in table)]


def render_markdown(results: dict) -> str:
    """The comparison table with intervals, the gaps, and the paper rows as Markdown (RESULTS.md)."""
    table, tasks = results["table"], _tasks(results["table"])
    same = results.get("same_data", {})
    cpu = results["machine"].get("cpu")
    lines = [f"Wall time {results['seconds'] / 60:.1f} min on {results['machine']['cpus']} CPUs"
             f"{f' ({cpu})' if cpu else ''}; "
             f"profile {results['profile']['name']}, seed {results['profile']['seed']}.", "",
             "| training data | " + " | ".join(f"{t} {s}" for t in tasks for s in SPLITS) + " |",
             "|---|" + "---|" * (len(tasks) * len(SPLITS))]
    missing = results.get("not_trained", {})
    for d in DATASET_LABELS:
        if d in table:
            lines.append(f"| {DATASET_LABELS[d]} | " + " | ".join(
                ("N/A (not trained on the whole task)" if f"{d}/{t}" in missing
                 else _cell((table[d].get(t) or {}).get(s)) + (" (= RL row: same data)" if same.get(f"{d}/{t}") else ""))
                for t in tasks for s in SPLITS) + " |")
    lines += _stage_lines(results) + _handoff_lines(results) + _seed_lines(results) + _pick_place_lines(results)
    lines += ["", "(success rate [95% Wilson interval] (n episodes) / median cycle time in steps of the "
              "successful episodes)", "", "Gaps against raw human data (Newcombe 95% interval, two-proportion "
              "z-test; *called* when the two Wilson intervals do not overlap):", "",
              "| dataset | task | split | gap vs human | called |", "|---|---|---|---|---|"]
    for d, by_task in results.get("gaps_vs_human", {}).items():
        for t, by_split in by_task.items():
            for s, g in by_split.items():
                lines.append(f"| {DATASET_LABELS.get(d, d)} | {t} | {s} | {fmt_gap(g)} | {'yes' if g['called'] else 'no'} |")
    eff = results["efficiency"]
    if eff.get("sizes"):
        sizes = sorted({int(n) for v in eff["sizes"].values() for n in v})
        lines += ["", f"Data efficiency on {eff['task']}/{eff['variant']}:", "",
                  "| episodes | " + " | ".join(map(str, sizes)) + " |", "|---|" + "---|" * len(sizes)]
        for src, by_size in sorted(eff["sizes"].items()):
            lines.append(f"| {src} data | " + " | ".join(
                fmt_rate(_rate_of(by_size.get(str(n)))) for n in sizes) + " |")
    else:
        lines += ["", "Data efficiency: not run in this profile (`rldg demo --efficiency` with the same "
                  "--out adds the sweep's stages to this run)."]
    lines += ["", "| finding (RLDG paper) | paper | this run |", "|---|---|---|"]
    lines += [f"| {r['finding']} | {r['paper']} | {r['ours']} |" for r in results["paper_comparison"]]
    lines += ["", "Specialists (strict success on their own variant, then on the task's unseen variants):", ""]
    for name, rows in results["specialist_generalization"].items():
        lines.append(f"- {name}: " + ", ".join(
            f"{v} {100 * r['success_rate']:.0f}%" + (f" ({r['median_steps_to_success']:.0f} steps)"
                                                     if r.get("median_steps_to_success") else "")
            for v, r in rows.items()))
    return "\n".join(lines) + "\n"


def _stage_lines(results: dict) -> list[str]:
    """Per-stage success of every multi-stage row: where each dataset's generalist fails."""
    stages = results.get("stages") or {}
    lines = []
    for task in TASKS:
        rows = [(d, stages[d][task]) for d in DATASET_LABELS if task in stages.get(d, {})]
        if not rows:
            continue
        names = next(iter(rows[0][1].values()))["order"]
        lines += ["", f"{task}, whole task from the start: episodes that finished each stage "
                  "(rate [95% Wilson interval] (n)):", "",
                  "| training data | split | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
        lines += [f"| {DATASET_LABELS.get(d, d)} | {split} | " + " | ".join(fmt_rate(cells[n]) for n in names) + " |"
                  for d, by_split in rows for split, cells in by_split.items()]
    return lines


def _handoff_lines(results: dict) -> list[str]:
    """The RLDG hand-off generalist against human data with pauses removed (use case 2)."""
    lines = []
    for task, by_split in (results.get("handoff_vs_trimmed_human") or {}).items():
        lines += ["", f"{task}: RLDG hand-off mix vs human data with pauses removed (Newcombe 95% interval; "
                  "called when the Wilson intervals do not overlap):", "",
                  "| split | RLDG hand-off | human, pauses removed | gap | called "
                  "| median steps RLDG / human [95% interval] | shorter, called |",
                  "|---|---|---|---|---|---|---|"]
        for split, c in by_split.items():
            t, ci = c["median_cycle_time"], c.get("median_ci95") or {}
            steps = " / ".join(_median_cell(t[k], ci.get(k)) for k in ("rldg", "human_trimmed"))
            lines.append(f"| {split} | {fmt_rate(c['rldg'])} | {fmt_rate(c['human_trimmed'])} | {fmt_gap(c['gap'])} "
                         f"| {'yes' if c['called'] else 'no'} | {steps} | {'yes' if c.get('shorter_called') else 'no'} |")
    return lines


def _median_cell(median, interval) -> str:
    """"174 [165-181]" (median steps and its 95% interval), "174" when too few episodes, "-"."""
    if median is None:
        return "-"
    return f"{median:g}" + (f" [{interval[0]:g}-{interval[1]:g}]" if interval else "")


def _seed_lines(results: dict) -> list[str]:
    """Every training seed of the multi-seed rows (same dataset, same evaluation episodes), their
    spread, the pooled rate, and each compared row's gap to human data seed by seed."""
    seeds = results.get("seed_table") or {}
    if not seeds:
        return []
    names = sorted({k for d in seeds.values() for t in d.values() for c in t.values() for k in c["seeds"]}, key=int)
    lines = ["", "Training seeds: one generalist per seed on the *same* dataset (built once with the run's seed; "
             "only initialisation, batch sampling and augmentation change), each on the same evaluation "
             "episodes. The spread across seeds is optimisation luck; a data effect is a gap larger than it "
             f"({POOLED_NOTE}).", "",
             "| training data | task | split | " + " | ".join(f"seed {k}" for k in names)
             + " | spread (points) | pooled |", "|---|---|---|" + "---|" * (len(names) + 2)]
    for d in DATASET_LABELS:
        for task, by_split in (seeds.get(d) or {}).items():
            for split, row in by_split.items():
                same = " (= RL row: same data)" if (results.get("same_data") or {}).get(f"{d}/{task}") else ""
                lines.append(f"| {DATASET_LABELS[d]}{same} | {task} | {split} | "
                             + " | ".join(fmt_rate(row["seeds"].get(k)) if row["seeds"].get(k) else "-" for k in names)
                             + f" | {row['spread_points']:.0f} | {fmt_rate(row['pooled'])} |")
    for key, against in (("seed_gaps_vs_human", "raw human data"),
                         ("seed_gaps_vs_trimmed_human", "human data with pauses removed (the strongest human baseline)")):
        by_gap = results.get(key) or {}
        if not by_gap:
            continue
        lines += ["", f"Gap to {against} in each training seed (points; a row with one generalist is "
                  "compared with every seed of the other):", "",
                  "| dataset | task | split | gap by seed | range | verdict |", "|---|---|---|---|---|---|"]
        lines += [f"| {DATASET_LABELS.get(d, d)} | {t} | {s} | "
                  + ", ".join(f"{k}: {v:+.0f}" for k, v in g["gap_points"].items())
                  + f" | {g['min']:+.0f} to {g['max']:+.0f} | {g['verdict']} |"
                  for d, by_task in by_gap.items() for t, by_split in by_task.items() for s, g in by_split.items()]
    pct = (lambda v: "n/a" if v is None else f"{100 * v:.0f}%")
    for task, a in (results.get("relabel_ablation_by_seed") or {}).items():
        lines += ["", f"Relabel ablation, {task} seen: share of the RL - human gap closed by human states + RL "
                  "actions, by training seed: " + ", ".join(f"{k}: {pct(v)}" for k, v in a["share_by_seed"].items())
                  + f"; pooled over seeds {pct(a['pooled_share'])} (human {fmt_rate(a['pooled']['human'])}, "
                  f"relabeled {fmt_rate(a['pooled']['relabeled'])}, RL {fmt_rate(a['pooled']['rl'])})."]
    return lines


def _pick_place_lines(results: dict) -> list[str]:
    """Pick-and-place per variant: the specialists beside the generalists, and what each reads."""
    pp = results.get("pick_place_generalization") or {}
    if not pp:
        return []
    variants = pp["variants"]
    lines = ["", "Pick-and-place on each object and background, specialists beside generalists (success "
             "[95% Wilson interval] (n); - : not evaluated there). " + results.get("inputs", ""), "",
             "| policy | " + " | ".join(f"{v} ({pp['split'][v]})" for v in variants) + " |",
             "|---|" + "---|" * len(variants)]
    for own, cells in pp["specialists"].items():
        lines.append(f"| specialist for {own} (privileged state) | "
                     + " | ".join(fmt_rate(cells[v]) if v in cells else "-" for v in variants) + " |")
    for d in DATASET_LABELS:
        cells = pp["generalists"].get(d)
        if cells:
            note = " (= RL row: same data)" if (results.get("same_data") or {}).get(f"{d}/pick_place") else ""
            lines.append(f"| generalist: {DATASET_LABELS[d]}{note} (images) | "
                         + " | ".join(fmt_rate(cells[v]) if v in cells else "-" for v in variants) + " |")
    return lines


def _rate_of(result):
    """A rate dict of an evaluation row (rows written before intervals existed get one)."""
    if not result:
        return None
    return rate_cell(result)


def write_figures(folder: Path, results: dict) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    table, figures = results["table"], {}
    datasets = [d for d in DATASET_LABELS if d in table]
    tasks = _tasks(table)

    for metric, label in (("success_rate", "success rate (bars: 95% Wilson interval)"),
                          ("median_cycle_time", "median cycle time (steps)")):
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
        for ax, split in zip(axes, SPLITS):
            width = 0.8 / max(len(datasets), 1)
            for i, d in enumerate(datasets):
                cells = [(table[d].get(t) or {}).get(split) or {} for t in tasks]
                values = [c.get(metric) or 0.0 for c in cells]
                errors = None
                if metric == "success_rate":
                    errors = [[max(0.0, v - c.get("ci95", [v, v])[0]) for v, c in zip(values, cells)],
                              [max(0.0, c.get("ci95", [v, v])[1] - v) for v, c in zip(values, cells)]]
                ax.bar([x + i * width for x in range(len(tasks))], values, width, label=DATASET_LABELS[d],
                       yerr=errors, capsize=3)
            ax.set_xticks([x + 0.4 - width / 2 for x in range(len(tasks))], tasks)
            ax.set_title(f"{split} variants")
            ax.set_ylabel(label)
        axes[0].legend(fontsize=7)
        figures[metric] = _save(fig, folder / f"{metric}.png")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    if not results["efficiency"].get("sizes"):
        ax.text(0.5, 0.5, "data-efficiency sweep not run\n(rldg demo --efficiency)", ha="center",
                va="center", transform=ax.transAxes)
    for source, sizes in sorted(results["efficiency"].get("sizes", {}).items()):
        xs = sorted(int(n) for n in sizes)
        cells = [_rate_of(sizes[str(n)]) for n in xs]
        ys = [c["success_rate"] for c in cells]
        ax.errorbar(xs, ys, yerr=[[y - c["ci95"][0] for y, c in zip(ys, cells)],
                                  [c["ci95"][1] - y for y, c in zip(ys, cells)]],
                    marker="o", capsize=3, label=f"{source} data")
    ax.set_xlabel(f"episodes of {results['efficiency']['task']}/{results['efficiency']['variant']}")
    ax.set_ylabel("success rate")
    ax.set_title("data efficiency")
    if results["efficiency"].get("sizes"):
        ax.legend()
    figures["efficiency"] = _save(fig, folder / "efficiency.png")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, ckpt in sorted(results["specialists"].items()):
        curve_file = Path(ckpt) / "curve.json"
        if curve_file.is_file():
            curve = json.loads(curve_file.read_text())
            ax.plot([r["env_steps"] for r in curve], [r["success_rate"] for r in curve], marker=".", label=name)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("strict success (evaluation)")
    ax.set_title("specialist learning curves")
    ax.legend(fontsize=7)
    figures["learning_curves"] = _save(fig, folder / "learning_curves.png")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, ckpt in sorted(results.get("generalists", {}).items()):
        if "_train" in name:  # the extra training seeds' curves (results.json lists their checkpoints)
            continue
        info_file = Path(ckpt) / "policy.json"
        curve = json.loads(info_file.read_text()).get("loss_curve") if info_file.is_file() else None
        if curve:
            ax.plot([s for s, _ in curve], [v for _, v in curve], label=DATASET_LABELS.get(name, name))
    ax.set_xlabel("training step")
    ax.set_ylabel("L1 loss (normalized action chunks)")
    ax.set_title("generalist training curves")
    ax.legend(fontsize=7)
    figures["generalist_curves"] = _save(fig, folder / "generalist_curves.png")
    return figures


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _cell(cell) -> str:
    if not cell:
        return "n/a"
    time = cell["median_cycle_time"]
    return f"{fmt_rate(cell)} / {'-' if time is None else f'{time:.0f}'}"


def _handoff_eval_note(profile: dict) -> str:
    """How many episodes the hand-off families' generalists are evaluated on, where it differs."""
    per_variant = profile.get("handoff_eval_episodes") or profile["eval_episodes"]
    seen = profile.get("handoff_seen_eval_episodes") or per_variant
    if (per_variant, seen) == (profile["eval_episodes"], profile["eval_episodes"]):
        return ""
    note = f" ({', '.join(HANDOFF_TASKS)}: {per_variant} per variant"
    if seen != per_variant:
        note += f", {seen} on the seen variant for {' and '.join(USE_CASE_2_ROWS)}"
    return note + ")"


def _same_note(results: dict) -> str:
    same = results.get("same_data", {})
    if not same:
        return ""
    return ("Same dataset, one generalist: " + ", ".join(f"{k} = {v}" for k, v in same.items())
            + " (the RLDG recipe of a single-stage task is the specialists' rollouts).")


def render_page(out: Path, results: dict, figures: dict[str, Path]) -> str:
    esc = html.escape
    table = results["table"]
    tasks = _tasks(table)
    head = "".join(f"<th>{esc(t)} {s}</th>" for t in tasks for s in SPLITS)
    rows = "".join(
        f"<tr><td>{esc(DATASET_LABELS.get(d, d))}</td>"
        + "".join(f"<td>{esc('N/A (not trained on the whole task)' if f'{d}/{t}' in results.get('not_trained', {}) else _cell((table[d].get(t) or {}).get(s)))}</td>"
                  for t in tasks for s in SPLITS)
        + "</tr>" for d in DATASET_LABELS if d in table)
    gap_rows = "".join(
        f"<tr><td>{esc(DATASET_LABELS.get(d, d))}</td><td>{esc(t)}</td><td>{s}</td><td>{esc(fmt_gap(g))}</td>"
        f"<td>{'yes' if g['called'] else 'no'}</td></tr>"
        for d, by_task in results.get("gaps_vs_human", {}).items() for t, by_split in by_task.items()
        for s, g in by_split.items())
    paper = "".join(f"<tr><td>{esc(r['finding'])}</td><td>{esc(r['paper'])}</td><td>{esc(r['ours'])}</td></tr>"
                    for r in results["paper_comparison"])
    spec_rows = "".join(
        f"<tr><td>{esc(name)}</td>" + "".join(
            f"<td>{esc(v)}: {100 * r['success_rate']:.0f}%</td>" for v, r in rows_by_variant.items()) + "</tr>"
        for name, rows_by_variant in results["specialist_generalization"].items())
    figs = "".join(f'<figure><img src="{esc(os.path.relpath(p, out))}" alt="{esc(k)}"><figcaption>{esc(k)}'
                   f"</figcaption></figure>" for k, p in figures.items())
    links = "".join(f'<li><a href="{esc(os.path.relpath(Path(p) / "index.html", out))}">{esc(DATASET_LABELS.get(k, k))}'
                    f"</a> (figures, action distributions per source, dataset card figures)</li>"
                    for k, p in results["reports"].items())
    profile = results["profile"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RLDG demo ({esc(profile['name'])})</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px}}img{{max-width:100%}}</style></head><body>
<h1>RLDG in simulation: generalists distilled from RL specialists vs human data</h1>
<p>Profile <b>{esc(profile['name'])}</b>: {profile['episodes']} wanted successful episodes per seen variant and
source; used per variant (the fewest any source reached): {esc(json.dumps(results['episodes_per_variant']))};
left out (a source never succeeded): {esc(', '.join(results['dropped_variants']) or 'none')}; generalist
{profile['generalist_steps']} steps, {profile['eval_episodes']} evaluation episodes per variant{esc(_handoff_eval_note(profile))}.
Run time {results['seconds'] / 60:.1f} min on {results['machine']['cpus']} CPUs.</p>
<h2>Generalist: success rate [95% Wilson interval] (n) / median cycle time (steps)</h2>
<p>One generalist per task family and training dataset. {esc(_same_note(results))}</p>
<table><tr><th>training data</th>{head}</tr>{rows}</table>
<h2>Multi-stage tasks: stages finished, and the hand-off mix against cleaned human data</h2>
<pre>{esc(chr(10).join(_stage_lines(results) + _handoff_lines(results)) or 'no multi-stage task in this profile')}</pre>
<h2>Training seeds, and pick-and-place specialists beside generalists</h2>
<pre>{esc(chr(10).join(_seed_lines(results) + _pick_place_lines(results)) or 'one training seed per dataset, no pick-and-place in this profile')}</pre>
<h2>Gaps against raw human data</h2>
<p>Newcombe 95% interval of the difference and a two-proportion z-test; a gap is called only when
the two Wilson intervals do not overlap.</p>
<table><tr><th>dataset</th><th>task</th><th>split</th><th>gap</th><th>called</th></tr>{gap_rows}</table>
<h2>The paper's findings beside ours</h2>
<table><tr><th>finding (RLDG paper)</th><th>paper</th><th>this run</th></tr>{paper}</table>
<h2>Specialists on their own variant and on unseen variants</h2>
<table>{spec_rows}</table>
<h2>Figures</h2>{figs}
<h2>Dataset reports</h2><ul>{links}</ul>
<p>Every command this run executed is in <code>commands.log</code>; all numbers in <code>results.json</code>.</p>
</body></html>
"""
