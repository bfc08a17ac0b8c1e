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
from trainers.demo.profile import DemoProfile
from trainers.demo.results import DATASET_LABELS, SPLITS, comparison_table, efficiency_summary, paper_rows

TASK_ORDER = ("insertion", "pick_place", "assembly")


def write_results(out: Path, profile: DemoProfile, data: dict) -> dict:
    """Writes OUT/results.json, OUT/figures/*.png and OUT/report.html; returns the results."""
    out = Path(out)
    table = comparison_table(data["evaluations"])
    results = {
        "profile": profile.to_dict(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "table": table,
        "paper_comparison": paper_rows(table, data["efficiency"], data["specialist_generalization"]),
        "efficiency_summary": efficiency_summary(data["efficiency"]),
        **data,
    }
    write_text_atomic(out / "results.json", json.dumps(results, indent=2, sort_keys=True, default=str))
    figures = write_figures(out / "figures", results)
    write_text_atomic(out / "report.html", render_page(out, results, figures))
    write_text_atomic(out / "results.md", render_markdown(results))
    return results


def render_markdown(results: dict) -> str:
    """The comparison table and the paper rows as Markdown (for RESULTS.md)."""
    table = results["table"]
    lines = ["| training data | " + " | ".join(f"{t} {s}" for t in TASK_ORDER for s in SPLITS) + " |",
             "|---|" + "---|" * (len(TASK_ORDER) * len(SPLITS))]
    for d in DATASET_LABELS:
        if d in table:
            lines.append(f"| {DATASET_LABELS[d]} | " + " | ".join(
                _cell((table[d].get(t) or {}).get(s)) for t in TASK_ORDER for s in SPLITS) + " |")
    lines += ["", "(success rate / median cycle time in steps of the successful episodes)", "",
              "| finding (RLDG paper) | paper | this run |", "|---|---|---|"]
    lines += [f"| {r['finding']} | {r['paper']} | {r['ours']} |" for r in results["paper_comparison"]]
    lines += ["", "Specialists (strict success on their own variant, then on the task's unseen variants):", ""]
    for name, rows in results["specialist_generalization"].items():
        lines.append(f"- {name}: " + ", ".join(
            f"{v} {100 * r['success_rate']:.0f}%" + (f" ({r['median_steps_to_success']:.0f} steps)"
                                                     if r.get("median_steps_to_success") else "")
            for v, r in rows.items()))
    return "\n".join(lines) + "\n"


def write_figures(folder: Path, results: dict) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    table, figures = results["table"], {}
    datasets = [d for d in DATASET_LABELS if d in table]

    for metric, label in (("success_rate", "success rate"), ("median_cycle_time", "median cycle time (steps)")):
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
        for ax, split in zip(axes, SPLITS):
            width = 0.8 / max(len(datasets), 1)
            for i, d in enumerate(datasets):
                values = [((table[d].get(t) or {}).get(split) or {}).get(metric) or 0.0 for t in TASK_ORDER]
                ax.bar([x + i * width for x in range(len(TASK_ORDER))], values, width, label=DATASET_LABELS[d])
            ax.set_xticks([x + 0.4 - width / 2 for x in range(len(TASK_ORDER))], TASK_ORDER)
            ax.set_title(f"{split} variants")
            ax.set_ylabel(label)
        axes[0].legend(fontsize=7)
        figures[metric] = _save(fig, folder / f"{metric}.png")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for source, sizes in sorted(results["efficiency"].get("sizes", {}).items()):
        xs = sorted(int(n) for n in sizes)
        ax.plot(xs, [sizes[str(n)]["success_rate"] for n in xs], marker="o", label=f"{source} data")
    ax.set_xlabel(f"episodes of {results['efficiency']['task']}/{results['efficiency']['variant']}")
    ax.set_ylabel("success rate")
    ax.set_title("data efficiency")
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
    return f"{100 * cell['success_rate']:.0f}% / {'-' if time is None else f'{time:.0f}'}"


def render_page(out: Path, results: dict, figures: dict[str, Path]) -> str:
    esc = html.escape
    table = results["table"]
    head = "".join(f"<th>{esc(t)} {s}</th>" for t in TASK_ORDER for s in SPLITS)
    rows = "".join(
        f"<tr><td>{esc(DATASET_LABELS.get(d, d))}</td>"
        + "".join(f"<td>{_cell((table[d].get(t) or {}).get(s))}</td>" for t in TASK_ORDER for s in SPLITS)
        + "</tr>" for d in DATASET_LABELS if d in table)
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
{profile['generalist_steps']} steps, {profile['eval_episodes']} evaluation episodes per variant.
Run time {results['seconds'] / 60:.1f} min on {results['machine']['cpus']} CPUs.</p>
<h2>Generalist: success rate / median cycle time (steps)</h2>
<table><tr><th>training data</th>{head}</tr>{rows}</table>
<h2>The paper's findings beside ours</h2>
<table><tr><th>finding (RLDG paper)</th><th>paper</th><th>this run</th></tr>{paper}</table>
<h2>Specialists on their own variant and on unseen variants</h2>
<table>{spec_rows}</table>
<h2>Figures</h2>{figs}
<h2>Dataset reports</h2><ul>{links}</ul>
<p>Every command this run executed is in <code>commands.log</code>; all numbers in <code>results.json</code>.</p>
</body></html>
"""
