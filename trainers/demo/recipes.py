"""The demo's mixing recipes, as plain dicts (written to YAML and built by `tfds build builders/rldg_mix`).

Every training dataset holds the same number of successful episodes per seen variant and source,
selected deterministically by the recipe seed (one recipe source per variant, with a `count`):

- `human`: human-proxy demonstrations of every seen variant (whole episodes, every stage).
- `human_trimmed`: the same human episodes, cleaned in the recipe: their pauses (steps without
  hand motion, ~28% of the human proxy's steps) removed (`relabels: {trim_pauses: true}`).
- `rl`: specialist rollouts. Specialists are narrow: the assembly specialist only learned the
  bottleneck (insert) stage, so its episodes start at the hand-off state of that stage.
- `rldg`: the RLDG recipe: specialist rollouts for insertion and pick-and-place, and for assembly
  hand-off episodes (human proxy for grasp and transport, specialist for the insertion), cleaned
  where humans act: `trim_pauses` removes the idle steps of the human segments and leaves the
  specialist's segment as recorded (the dataset card counts what went from which segment).
- `relabeled`: the ablation: human-demonstrated states with the specialist's actions on them
  (insertion and pick-and-place; assembly episodes stay human, as the specialist only knows the
  last stage).
- `efficiency_<source>_<n>`: n episodes of one seen connector, for the data-efficiency curve.

The demo trains one generalist per task family (`family_datasets`): `rldg` is its own dataset only
where it differs from `rl` (assembly, whose RLDG data are hand-offs); for insertion and
pick-and-place the RLDG recipe *is* the specialists' rollouts. For assembly the specialist's own
rollouts (`rl`) start at the bottleneck: a generalist trained on them never saw a grasp, so the demo
reports that row as the paper does, "not trained on the whole task" (`NOT_TRAINED`), and trains no
`relabeled` generalist either (the specialist knows the last stage only: it would be the human data).
"""

from __future__ import annotations

from typing import Mapping, Sequence

from rldg_data.errors import ConfigError
from trainers.demo.profile import DATASET_KINDS, HANDOFF_TASKS

DATASETS = DATASET_KINDS
NOT_TRAINED = "N/A: the specialist's sub-task data (bottleneck only), not trained on the whole task"


def family_datasets(task: str, kinds: Sequence[str] = DATASETS) -> tuple[str, ...]:
    """The training datasets of one task family's generalists, of `kinds` (see the module docstring)."""
    if task in HANDOFF_TASKS:
        return tuple(k for k in kinds if k not in ("rl", "relabeled"))
    return tuple(k for k in kinds if k != "rldg")


def needs_rl_logs(task: str, kinds: Sequence[str] = DATASETS) -> bool:
    """Whether a family's specialist rollouts feed any of its datasets (for assembly only the `rl`
    row would use them, and that row is the paper's N/A: see `not_trained`)."""
    return any(k == "rl" or (k == "rldg" and task not in HANDOFF_TASKS) for k in family_datasets(task, kinds))


def not_trained(task: str, kinds: Sequence[str] = DATASETS) -> dict[str, str]:
    """{"<dataset>/<task>": why} for the rows a family reports without a generalist (the paper's N/A)."""
    return {f"rl/{task}": NOT_TRAINED} if task in HANDOFF_TASKS and "rl" in kinds else {}


def _source(path: str, variant: str, count: int, relabel_policy: str = "", trim_pauses: bool = False) -> dict:
    source = {"path": path, "count": count, "filters": {"success_only": True, "variants": [variant]}}
    if relabel_policy:
        source["relabels"] = {"actions": {"policy": relabel_policy, "sources": ["human"]}}
    if trim_pauses:
        source["relabels"] = {"trim_pauses": True}
    return source


def _recipe(name: str, sources: Mapping[str, dict], seed: int, description: str) -> dict:
    return {"name": name, "seed": seed, "val_fraction": 0.0, "description": description,
            "sources": dict(sources)}


def training_recipe(kind: str, counts: Mapping[tuple[str, str], int], raw: Mapping[str, str],
                    specialists: Mapping[tuple[str, str], str], seed: int, family: str = "") -> dict:
    """The recipe of training dataset `kind` (one of DATASETS).

    counts: successful episodes to take per seen (task, variant), the same for every dataset;
    raw: folder of each raw dataset (`rl`, `human`, `handoff`); specialists: checkpoint folder per
    (task, variant); family: the task family the dataset is for (its name ends with it).
    """
    sources = {}
    for (task, variant), episodes in counts.items():
        key = f"{task}_{variant}"
        if kind == "rl":
            sources[key] = _source(raw["rl"], variant, episodes)
        elif kind == "human":
            sources[key] = _source(raw["human"], variant, episodes)
        elif kind == "human_trimmed":
            sources[key] = _source(raw["human"], variant, episodes, trim_pauses=True)
        elif kind == "rldg":
            handoff = task in HANDOFF_TASKS
            sources[key] = _source(raw["handoff" if handoff else "rl"], variant, episodes, trim_pauses=handoff)
        elif kind == "relabeled":
            policy = "" if task == "assembly" else specialists[(task, variant)]
            sources[key] = _source(raw["human"], variant, episodes, policy)
        else:
            raise ConfigError(f"unknown demo dataset {kind!r} (known: {DATASETS})")
    descriptions = {
        "rl": "specialist rollouts only",
        "human": "human-proxy demonstrations only",
        "human_trimmed": "human-proxy demonstrations, pauses removed",
        "rldg": "RLDG: specialist rollouts; assembly hand-offs (human easy stages with pauses removed, "
                "RL bottleneck as recorded)",
        "relabeled": "ablation: human states, specialist actions",
    }
    name = f"demo_{kind}_{family}" if family else f"demo_{kind}"
    return _recipe(name, sources, seed, descriptions[kind])


def efficiency_recipe(source: str, task: str, variant: str, path: str, size: int, seed: int) -> dict:
    """`size` successful episodes of one variant from one raw dataset (`rl` or `human`)."""
    return _recipe(f"efficiency_{source}_{size}", {f"{source}_{variant}": _source(path, variant, size)},
                   seed, f"data efficiency: {size} {source} episodes of {task}/{variant}")
