"""`rldg demo --profile paper`: the profile, its stage counts and time estimate, and the tables it
adds (training seeds on one dataset; pick-and-place specialists beside generalists)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from rldg_data.errors import RldgError
from trainers.demo import budget, recipes
from trainers.demo.page import render_markdown
from trainers.demo.pipeline import planned_generalists, stage_count
from trainers.demo.profile import DATASET_KINDS, PROFILES, DemoProfile, get_profile
from trainers.demo.results import (comparison_table, inputs_note, pick_place_generalization,
                                   relabel_ablation_by_seed, seed_gaps, seed_table)
from trainers.generalist.evaluate import _by_split, variant_row

REPO = Path(__file__).resolve().parents[2]
TASKS = ("insertion", "pick_place", "assembly")


def test_paper_profile_runs_every_table_at_the_small_profiles_generalist_settings():
    paper, small = get_profile("paper"), get_profile("small")
    assert paper.tasks == TASKS and paper.efficiency and paper.datasets == DATASET_KINDS
    assert set(paper.unseen_for) == set(DATASET_KINDS)
    for field in ("image_size", "window", "shift", "channels", "episodes", "batch_size",
                  "eval_episodes", "efficiency_sizes", "efficiency_steps", "encoder"):
        assert getattr(paper, field) == getattr(small, field), field
    assert paper.generalist_steps == 9000 > small.generalist_steps  # small trains less to fit 30 min
    assert paper.channels == (8, 16, 32, 64) and paper.handoff_eval_episodes == 40
    for kind in ("human", "human_trimmed", "relabeled", "rl", "rldg"):
        assert paper.seeds_for(kind) == (0, 1, 2)
    assert small.seeds_for("human") == (0,)  # the default: the run's seed only
    moved = get_profile("paper", seed=5)  # the training seeds move with the run's seed, its own first
    assert moved.seeds_for("relabeled") == (5, 6, 7)
    with pytest.raises(RldgError, match="train_seeds must be distinct and contain the run's seed 0"):
        dataclasses.replace(small, train_seeds=(1, 2))
    with pytest.raises(RldgError, match="train_seeds_for"):
        dataclasses.replace(small, train_seeds_for=("bogus",))


def test_one_generalist_per_training_seed_of_the_multi_seed_datasets():
    paper = get_profile("paper")
    plan = planned_generalists(paper)
    assert len(plan) == len(set(plan)) == 3 * (4 + 4 + 3)  # insertion, pick_place: 4 datasets; assembly: 3
    assert [s for k, t, s in plan if (k, t) == ("relabeled", "insertion")] == [0, 1, 2]
    assert not [1 for k, t, _ in plan if (k, t) in (("rl", "assembly"), ("relabeled", "assembly"))]
    one_seed = dataclasses.replace(paper, train_seeds=())
    assert len(planned_generalists(one_seed)) == 11
    assert stage_count(paper) - stage_count(one_seed) == 2 * 22  # a train and an eval stage per extra seed
    tiny = get_profile("tiny")  # the end-to-end test's multi-seed rows
    assert [s for k, t, s in planned_generalists(tiny) if (k, t) == ("human", "assembly")] == [0, 1]
    assert [s for k, t, s in planned_generalists(tiny) if (k, t) == ("rl", "insertion")] == [0]


def test_step_limits_of_the_estimate_are_the_tasks():
    from robot_io.sim.tasks.assembly import AssemblyTask
    from robot_io.sim.tasks.insertion import InsertionTask
    from robot_io.sim.tasks.pick_place import PickPlaceTask

    assert budget.STEP_LIMITS == {"insertion": InsertionTask.max_episode_steps,
                                  "pick_place": PickPlaceTask.max_episode_steps,
                                  "assembly": AssemblyTask.max_episode_steps}


def test_time_estimate_reproduces_the_measured_small_run_and_puts_paper_in_hours():
    # the small profile (insertion and assembly, 6 generalists of 6,000 steps): `make demo` took
    # 24.2 min by the demo's own clock on an idle 2-core AMD EPYC (RESULTS.md, round 6)
    small = get_profile("small")
    n = budget.counts(small)
    assert (n["generalists"], n["episodes_rl"], n["episodes_human"], n["episodes_handoff"]) == (6, 192, 256, 64)
    assert 0.85 * 24.2 * 60 <= budget.estimate(small)["wall_s"] <= 1.15 * 24.2 * 60
    paper = budget.estimate(get_profile("paper"))
    assert paper["wall_s"] > 2 * 3600 and paper["training"] > paper["evaluation"]
    assert budget.describe(get_profile("paper")).endswith(" h")
    assert budget.estimate(small)["wall_s"] < paper["wall_s"] / 4


def test_demo_help_lists_every_profile_with_its_estimate():
    from trainers.demo.cli import PROFILE_NAMES

    assert set(PROFILE_NAMES) == set(PROFILES)
    res = subprocess.run([sys.executable, "-m", "rldg_data.cli", "demo", "--help"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    block = " ".join(res.stdout.split("\n  paper ", 1)[1].split("\n  full ", 1)[0].split())
    assert block.startswith(budget.describe(get_profile("paper"))) and "3 training seeds" in block
    assert "{paper,full,tiny}" in res.stdout.replace("small,", "")


def _evaluation(successes: int, n: int = 20, split: str = "seen") -> dict:
    row = variant_row(split, [(True, 100, 0)] * successes + [(False, 400, 0)] * (n - successes))
    return {"variants": {"v": row}, "splits": _by_split({"v": row})}


def test_seed_tables_tell_a_data_effect_from_optimisation_luck():
    # The case: the relabel ablation closes most of the gap in one seed, little in another.
    seeds = {"human": {"insertion": {"0": _evaluation(2), "1": _evaluation(4), "2": _evaluation(2)}},
             "relabeled": {"insertion": {"0": _evaluation(14), "1": _evaluation(6), "2": _evaluation(10)}},
             "human_trimmed": {"insertion": {"0": _evaluation(16), "1": _evaluation(15), "2": _evaluation(17)}}}
    evaluations = {d: {"insertion": by_task["insertion"]["0"]} for d, by_task in seeds.items()}
    evaluations["rl"] = {"insertion": _evaluation(18)}  # one RL generalist: paired with every seed
    table, by_seed = comparison_table(evaluations), seed_table(seeds)
    row = by_seed["relabeled"]["insertion"]["seen"]
    assert [row["seeds"][k]["successes"] for k in ("0", "1", "2")] == [14, 6, 10]
    assert row["spread_points"] == 40.0 and (row["pooled"]["successes"], row["pooled"]["episodes"]) == (30, 60)
    verdicts = seed_gaps(table, by_seed)
    assert verdicts["human_trimmed"]["insertion"]["seen"]["verdict"] == "above human in every seed"
    assert verdicts["relabeled"]["insertion"]["seen"]["gap_points"] == {"0": 60.0, "1": 10.0, "2": 40.0}
    assert verdicts["rl"]["insertion"]["seen"]["gap_points"] == {"0": 80.0, "1": 70.0, "2": 80.0}
    # Against the strongest human baseline too: relabeled data is below cleaned human data in every seed.
    vs_trimmed = seed_gaps(table, by_seed, baseline="human_trimmed")
    assert "human_trimmed" not in vs_trimmed
    assert vs_trimmed["relabeled"]["insertion"]["seen"]["gap_points"] == {"0": -10.0, "1": -45.0, "2": -35.0}
    assert vs_trimmed["relabeled"]["insertion"]["seen"]["verdict"] == "below cleaned human in every seed"
    ablation = relabel_ablation_by_seed(table, by_seed)["insertion"]
    assert ablation["share_by_seed"] == {"0": 0.75, "1": 0.143, "2": 0.5}
    assert ablation["pooled_share"] == pytest.approx((30 - 8) / 60 / (18 / 20 - 8 / 60), abs=1e-3)
    results = {"table": table, "seed_table": by_seed, "seed_gaps_vs_human": verdicts,
               "seed_gaps_vs_trimmed_human": vs_trimmed,
               "relabel_ablation_by_seed": relabel_ablation_by_seed(table, by_seed), "same_data": {},
               "seconds": 60, "machine": {"cpus": 2}, "profile": {"name": "paper", "seed": 0},
               "gaps_vs_human": {}, "efficiency": {}, "paper_comparison": [], "specialist_generalization": {}}
    text = render_markdown(results)
    assert ("| human states + RL actions (ablation) | insertion | seen | 70% [48%-85%] (n=20) | 30% [15%-52%] (n=20) "
            "| 50% [30%-70%] (n=20) | 40 | 50% [38%-62%] (n=60) |") in text
    assert "| human states + RL actions (ablation) | insertion | seen | 0: +60, 1: +10, 2: +40 | +10 to +60 |" in text
    assert "by training seed: 0: 75%, 1: 14%, 2: 50%" in text
    assert "Gap to human data with pauses removed (the strongest human baseline) in each training seed" in text
    assert "| human states + RL actions (ablation) | insertion | seen | 0: -10, 1: -45, 2: -35 | -45 to -10 | below cleaned human in every seed |" in text


def test_pick_place_specialists_and_generalists_side_by_side_with_their_inputs():
    spec = {"pick_place/red_cylinder": {"red_cylinder": {"success_rate": 1.0, "episodes": 20},
                                        "yellow_cube_dark_table": {"success_rate": 0.05, "episodes": 20}},
            "insertion/vga": {"vga": {"success_rate": 1.0, "episodes": 20}}}
    rows = {"red_cylinder": variant_row("seen", [(True, 90, 0)] * 15 + [(False, 250, 0)] * 5),
            "yellow_cube_dark_table": variant_row("unseen", [(True, 120, 0)] * 6 + [(False, 250, 0)] * 14)}
    evaluations = {"rl": {"pick_place": {"variants": rows, "splits": _by_split(rows)}}}
    pp = pick_place_generalization(evaluations, spec)
    assert pp["variants"] == ["red_cylinder", "yellow_cube_dark_table"]
    assert pp["split"] == {"red_cylinder": "seen", "yellow_cube_dark_table": "unseen"}
    assert pp["specialists"]["red_cylinder"]["yellow_cube_dark_table"]["successes"] == 1
    results = {"table": comparison_table(evaluations), "pick_place_generalization": pp, "inputs": inputs_note(64),
               "same_data": {"rldg/pick_place": "rl"}, "seconds": 60, "machine": {"cpus": 2},
               "profile": {"name": "paper", "seed": 0}, "gaps_vs_human": {}, "efficiency": {},
               "paper_comparison": [], "specialist_generalization": spec}
    text = render_markdown(results)
    assert ("| specialist for red_cylinder (privileged state) | 100% [84%-100%] (n=20) | 5% [1%-24%] (n=20) |"
            in text)
    assert "| generalist: RL specialists only (images) | 75% [53%-89%] (n=20) | 30% [15%-52%] (n=20) |" in text
    assert "specialists read the simulator's privileged state" in text and "64x64 main-camera images" in text
    assert pick_place_generalization({"rl": {"insertion": {}}}, {"insertion/vga": {}}) == {}


def test_seed_gap_verdict_treats_a_zero_gap_as_neither_sign():
    from trainers.demo.results import _verdict

    assert _verdict([5.0, 0.0, 0.0]) == "above human or equal in every seed"
    assert _verdict([0.0, 0.0, 0.0]) == "no gap in any seed"
    assert _verdict([-2.0, 0.0]) == "below human or equal in every seed"
    assert _verdict([-2.0, 2.0]) == "sign changes with the seed"
    assert _verdict([1.0, 2.0]) == "above human in every seed"
