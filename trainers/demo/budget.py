"""How long a demo profile takes on a 2-core CPU machine, estimated from its stage counts (no run).

Every cost below is CPU-seconds on one core of an idle 2-core AMD EPYC, measured in `make demo`'s
own commands.log (the small profile of 2026-12-06: 24.2 min by the demo's clock, 26.2 min with the
install) and BENCHMARKS.md "demo time budget" round 2; the run keeps both cores busy (two
single-threaded jobs at a time), so wall time is the CPU total over the two cores. Evaluation
episodes are counted at the task's step limit (an upper bound: most unseen episodes fail and run
to it), which also stands in for what no line counts (process start-up, report pages).
`tests/trainers/test_demo_paper.py` checks the model against that measured run.
"""

from __future__ import annotations

import dataclasses

from robot_io.sim.variants import variants
from trainers.demo import recipes
from trainers.demo.profile import HANDOFF_TASKS, DemoProfile

# Step limits of robot_io's tasks (a test checks them against the task classes, which import MuJoCo).
STEP_LIMITS = {"insertion": 400, "pick_place": 250, "assembly": 400}


@dataclasses.dataclass(frozen=True)
class StageCosts:
    """generalist_step_s: one training step, 16-32-64-64 network, 64 px, batch 64, one frame, two
    trainers (or a trainer and an evaluation) at once (issue 29: 9,000 steps in 499-513 s);
    channel_factor: step cost of other conv widths relative to that one (8-16-32-64: 0.62x,
    `bench_generalist_step.py`; the measured demo's 6,000-step trainings took 191-231 s);
    eval_step_s: one evaluation step, rendered simulator step with the light arm meshes + the policy
    at batch 1 (`bench_eval_step.py`: 2.53 + 0.56 ms, plus the loop); sim_step_s: a step without
    rendering, for the state-based specialists' evaluation; collect_s: one recorded episode per
    source, process and writing included (the measured demo: 64 episodes on two workers in 15-17 s
    for the specialists, 27-38 s for the human proxy, 30 s for hand-offs); build_s: one episode
    through `tfds build` (the measured demo: 512 raw episodes in three builds of 13-27 s; mixes alike)."""

    generalist_step_s: float = 0.055
    channel_factor: tuple[tuple[tuple[int, ...], float], ...] = (((16, 32, 64, 64), 1.0), ((8, 16, 32, 64), 0.62))
    eval_step_s: float = 0.0036
    sim_step_s: float = 0.0011
    collect_s: tuple[tuple[str, float], ...] = (("rl", 0.51), ("human", 0.99), ("handoff", 0.94))
    build_s: float = 0.12
    cores: int = 2


COSTS = StageCosts()


def _step_s(profile: DemoProfile, costs: StageCosts) -> float:
    factor = dict(costs.channel_factor).get(tuple(profile.channels), 1.0)  # unmeasured widths: as 16-32-64-64
    return (costs.generalist_step_s * factor * profile.window * (profile.image_size / 64) ** 2
            * profile.batch_size / 64)


def counts(profile: DemoProfile) -> dict[str, int]:
    """What a run of `profile` does, counted as `run_demo` does it (episodes at the wanted numbers:
    no top-ups)."""
    from trainers.demo.pipeline import planned_generalists

    eff = profile.efficiency_variant
    collected = {"rl": 0, "human": 0, "handoff": 0}
    for task, variant in profile.seen:
        wanted = max(profile.episodes, profile.efficiency_sizes[-1]) if (task, variant) == eff else profile.episodes
        if recipes.needs_rl_logs(task, profile.datasets):
            collected["rl"] += profile.attempts(wanted)
        collected["human"] += profile.attempts(wanted)
        if task in HANDOFF_TASKS:
            collected["handoff"] += profile.attempts(profile.episodes)
    per_family = {task: len([tv for tv in profile.seen if tv[0] == task]) for task in profile.tasks}
    trained = [(k, t) for t in profile.tasks for k in recipes.family_datasets(t, profile.datasets)]
    mixed = sum(per_family[t] * profile.episodes for _, t in trained)
    first = next((t for t in profile.tasks if ("rl", t) in trained and ("human", t) in trained), None)
    mixed += 2 * per_family[first] * profile.episodes if first else 0  # the RL-vs-human report's mix
    sizes = profile.efficiency_sizes if profile.efficiency else ()
    eval_steps = 0
    for kind, task, _ in planned_generalists(profile):
        n_unseen = len(variants(task, "unseen")) if kind in profile.unseen_for else 0
        n_seen = len(variants(task, "seen"))
        eval_steps += (n_seen * profile.seen_eval_episodes_for(task, kind)
                       + n_unseen * profile.eval_episodes_for(task)) * STEP_LIMITS[task]
    eval_steps += 2 * len(sizes) * profile.efficiency_eval_episodes * STEP_LIMITS[eff[0]]
    spec_steps = sum((1 + len(variants(t, "unseen"))) * profile.specialist_eval_episodes * STEP_LIMITS[t]
                     for t, _ in profile.seen)
    return {"episodes_rl": collected["rl"], "episodes_human": collected["human"],
            "episodes_handoff": collected["handoff"], "generalists": len(planned_generalists(profile)),
            "efficiency_generalists": 2 * len(sizes),
            "training_steps": len(planned_generalists(profile)) * profile.generalist_steps
            + 2 * len(sizes) * profile.efficiency_steps,
            "built_episodes": sum(collected.values()) + mixed + 2 * sum(sizes),
            "eval_steps": eval_steps, "specialist_eval_steps": spec_steps}


def estimate(profile: DemoProfile, costs: StageCosts = COSTS) -> dict[str, float]:
    """CPU-seconds per kind of stage, and `wall_s`: their sum over the cores (idle machine)."""
    n = counts(profile)
    collect = dict(costs.collect_s)
    cpu = {"collection": sum(n[f"episodes_{k}"] * collect[k] for k in ("rl", "human", "handoff")),
           "dataset_builds": n["built_episodes"] * costs.build_s,
           "training": n["training_steps"] * _step_s(profile, costs),
           "evaluation": n["eval_steps"] * costs.eval_step_s * (profile.image_size / 64) ** 2,
           "specialist_evaluation": n["specialist_eval_steps"] * costs.sim_step_s}
    return {**{k: round(v) for k, v in cpu.items()}, "wall_s": round(sum(cpu.values()) / costs.cores)}


def describe(profile: DemoProfile) -> str:
    """'~3.2 h' / '~38 min': the estimate for `rldg demo --help`."""
    wall = estimate(profile)["wall_s"]
    return f"~{wall / 3600:.1f} h" if wall >= 5400 else f"~{wall / 60:.0f} min"
