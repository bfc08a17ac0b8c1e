"""`rldg demo`: recipes, result tables, the stage cache, and (slow) a tiny profile end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rldg_data.errors import RldgError
from trainers.demo import recipes
from trainers.demo.cache import StageCache
from trainers.demo.profile import PROFILES, SPECIALIST_VARIANTS, DemoProfile, get_profile
from trainers.demo.results import comparison_table, gaps, paper_rows

REPO = Path(__file__).resolve().parents[2]
TASKS = ("insertion", "pick_place", "assembly")
RAW = {"rl": "/d/rl", "human": "/d/human", "handoff": "/d/handoff"}
CKPTS = {tv: f"/ckpt/{tv[0]}-{tv[1]}" for tv in SPECIALIST_VARIANTS}


def test_every_training_recipe_asks_the_same_successful_count_per_seen_variant():
    for kind in recipes.DATASETS:
        recipe = recipes.training_recipe(kind, {tv: 7 for tv in SPECIALIST_VARIANTS}, RAW, CKPTS, seed=3)
        assert len(recipe["sources"]) == len(SPECIALIST_VARIANTS)
        for source in recipe["sources"].values():
            assert source["count"] == 7 and source["filters"]["success_only"] is True
            assert len(source["filters"]["variants"]) == 1


def test_rldg_recipe_takes_assembly_from_handoffs_and_the_rest_from_specialists():
    recipe = recipes.training_recipe("rldg", {tv: 5 for tv in SPECIALIST_VARIANTS}, RAW, CKPTS, seed=0)
    paths = {name: s["path"] for name, s in recipe["sources"].items()}
    assert paths["assembly_round_nut"] == "/d/handoff"
    assert paths["insertion_vga"] == paths["pick_place_red_cylinder"] == "/d/rl"
    # hand-offs are cleaned where humans act (trim_pauses touches human steps only); rollouts are not
    assert recipe["sources"]["assembly_round_nut"]["relabels"] == {"trim_pauses": True}
    assert "relabels" not in recipe["sources"]["insertion_vga"]


def test_assembly_trains_no_generalist_on_the_specialists_sub_task_data_and_reports_it_na():
    assert recipes.family_datasets("assembly") == ("human", "human_trimmed", "rldg")
    assert recipes.not_trained("assembly") == {"rl/assembly": recipes.NOT_TRAINED}
    assert recipes.not_trained("insertion") == {}
    small = get_profile("small")
    assert "assembly" in small.tasks and "insertion" in small.tasks
    assert recipes.family_datasets("insertion", small.datasets) == ("rl", "human", "human_trimmed")
    assert small.eval_episodes_for("assembly") >= 40 and small.eval_episodes_for("insertion") == small.eval_episodes
    # Use case 2's call (hand-off mix vs cleaned human data, 20-27 points apart) gets 100 seen episodes each.
    assert small.seen_eval_episodes_for("assembly", "rldg") == small.seen_eval_episodes_for(
        "assembly", "human_trimmed") == 100
    assert small.seen_eval_episodes_for("assembly", "human") == small.eval_episodes_for("assembly")
    assert small.seen_eval_episodes_for("insertion", "human_trimmed") == small.eval_episodes
    assert set(small.unseen_for) >= {"rldg", "human", "human_trimmed"}
    with pytest.raises(RldgError, match="datasets"):
        DemoProfile(name="x", episodes=1, collect_factor=1, generalist_steps=1, eval_episodes=1, datasets=("bogus",))


def test_stage_table_and_handoff_comparison_show_where_each_generalist_fails():
    from trainers.demo.page import render_markdown
    from trainers.demo.results import handoff_comparison, stage_table
    from trainers.generalist.evaluate import _by_split, variant_row

    names = ("grasped", "transported", "inserted")
    rldg = variant_row("seen", [(True, 150, 3)] * 30 + [(False, 400, 2)] * 5 + [(False, 400, 0)] * 5, names)
    human = variant_row("seen", [(True, 200, 3)] * 10 + [(False, 400, 1)] * 30, names)
    assert rldg["stages"]["grasped"]["successes"] == 35 and rldg["stages"]["inserted"]["successes"] == 30
    assert human["stages"]["transported"]["successes"] == 10 and human["stages"]["grasped"]["episodes"] == 40
    evaluations = {d: {"assembly": {"splits": _by_split({"round_nut": r})}}
                   for d, r in (("rldg", rldg), ("human_trimmed", human), ("human", human))}
    stages = stage_table(evaluations)
    assert stages["rldg"]["assembly"]["seen"]["transported"]["successes"] == 35
    table = comparison_table(evaluations)
    cmp = handoff_comparison(table, evaluations)["assembly"]["seen"]
    assert cmp["called"] and cmp["median_cycle_time"] == {"rldg": 150.0, "human_trimmed": 200.0}
    results = {"table": table, "same_data": {}, "not_trained": {"rl/assembly": recipes.NOT_TRAINED},
               "seconds": 60, "machine": {"cpus": 2}, "profile": {"name": "x", "seed": 0},
               "gaps_vs_human": {}, "efficiency": {}, "paper_comparison": [], "specialist_generalization": {},
               "stages": stages, "handoff_vs_trimmed_human": handoff_comparison(table, evaluations)}
    row = json.dumps(paper_rows(table, {}, {}, evaluations))
    assert ("assembly seen: RLDG hand-off 75% [60%-86%] (n=40) vs human 25% [14%-40%] (n=40), vs human with "
            "pauses removed 25% [14%-40%] (n=40) (+50 points") in row and "called); median steps 150.0 vs 200.0" in row
    table["rl"] = {"insertion": {}}
    text = render_markdown(results)
    assert "N/A (not trained on the whole task)" in text
    assert "| RLDG mix | seen | 88% [74%-95%] (n=40) | 88% [74%-95%] (n=40) | 75% [60%-86%] (n=40) |" in text
    assert "| seen | 75% [60%-86%] (n=40) | 25% [14%-40%] (n=40) |" in text


def test_relabeled_recipe_puts_each_variants_specialist_on_human_states():
    recipe = recipes.training_recipe("relabeled", {tv: 5 for tv in SPECIALIST_VARIANTS}, RAW, CKPTS, seed=0)
    vga = recipe["sources"]["insertion_vga"]
    assert vga["path"] == "/d/human"
    assert vga["relabels"]["actions"] == {"policy": "/ckpt/insertion-vga", "sources": ["human"]}
    assert "relabels" not in recipe["sources"]["assembly_round_nut"]  # the specialist knows one stage only


def test_human_trimmed_recipe_removes_pauses_of_the_same_human_episodes():
    recipe = recipes.training_recipe("human_trimmed", {("insertion", "vga"): 5}, RAW, CKPTS, seed=0,
                                     family="insertion")
    assert recipe["name"] == "demo_human_trimmed_insertion"
    vga = recipe["sources"]["insertion_vga"]
    assert vga["path"] == "/d/human" and vga["relabels"] == {"trim_pauses": True}


def test_one_generalist_per_family_and_rldg_only_where_it_differs_from_rl():
    assert recipes.family_datasets("insertion") == ("rl", "human", "human_trimmed", "relabeled")
    assert "rldg" in recipes.family_datasets("assembly")


def test_demo_recipes_are_valid_recipes(tmp_path):
    from rldg_data.mix.recipe import recipe_from_dict

    for kind in recipes.DATASETS:
        recipe = recipe_from_dict(recipes.training_recipe(kind, {tv: 2 for tv in SPECIALIST_VARIANTS}, RAW, CKPTS, 0),
                                  tmp_path, check_paths=False)
        assert recipe.name == f"demo_{kind}"
    with pytest.raises(RldgError):
        recipes.training_recipe("bogus", {tv: 2 for tv in SPECIALIST_VARIANTS}, RAW, CKPTS, 0)


def _evaluation(success_seen: float, success_unseen: float, time: float, n: int = 10) -> dict:
    seen = int(round(success_seen * n))
    return {"splits": {"seen": {"success_rate": success_seen, "successes": seen, "median_cycle_time": time,
                                "episodes": n, "successful_steps": [time] * seen},
                       "unseen": {"success_rate": success_unseen, "median_cycle_time": None, "episodes": n}}}


def test_comparison_table_has_a_cell_per_dataset_task_and_split_and_paper_rows_use_them():
    evaluations = {"rl": {t: _evaluation(0.8, 0.5, 100) for t in TASKS},
                   "human": {t: _evaluation(0.4, 0.2, 200) for t in TASKS},
                   "rldg": {t: _evaluation(0.9, 0.6, 110) for t in TASKS},
                   "relabeled": {t: _evaluation(0.7, 0.4, 150) for t in TASKS}}
    table = comparison_table(evaluations)
    assert set(table) == set(evaluations)
    cell = table["rl"]["assembly"]["seen"]
    assert (cell["successes"], cell["episodes"], cell["success_rate"], cell["median_cycle_time"]) == (8, 10, 0.8, 100)
    assert cell["ci95"] == [0.4902, 0.9433]  # Wilson 95% of 8/10
    efficiency = {"task": "insertion", "variant": "vga",
                  "sizes": {"rl": {"2": {"success_rate": 0.5, "episodes": 10}, "4": {"success_rate": 0.9, "episodes": 10},
                                   "8": {"success_rate": 0.9, "episodes": 10}},
                            "human": {"2": {"success_rate": 0.1, "episodes": 10}, "4": {"success_rate": 0.3, "episodes": 10}}}}
    spec = {"pick_place/red_cylinder": {"red_cylinder": {"success_rate": 1.0},
                                        "yellow_cube_dark_table": {"success_rate": 0.0}}}
    rows = paper_rows(table, efficiency, spec, evaluations)
    text = json.dumps(rows)
    assert "RLDG mix 90% [74%-97%] (n=30) vs human 40% [25%-58%] (n=30): +50 points [+26, +67]" in text
    assert "intervals do not overlap" in text
    assert "rl: best 90% [60%-98%] (n=10) first reached with 4 episodes" in text
    assert "human data with 4 episodes: 30% [11%-60%] (n=10), reached by RL data with 2 episodes" in text
    assert "specialist 100% seen, 0% unseen" in text
    assert "RL data 100.0 (n=8) vs human data 200.0 (n=4), ratio 0.50" in text
    assert "share of the RL-human gap closed: 75%" in text
    assert len(rows) == 7
    assert "assembly not run in this profile" in text  # the use-case-2 row needs a pauses-removed human row
    assert "use case 2" in text
    gap = gaps(table)["rldg"]["insertion"]["seen"]
    assert gap["gap"] == 0.5 and gap["called"] is False  # 9/10 vs 4/10: the intervals still overlap
    assert gap["ci95"][0] < 0.5 < gap["ci95"][1] and gap["p_value"] < 0.05


def test_equal_counts_take_the_fewest_successes_and_leave_out_variants_a_source_never_solved():
    from trainers.demo.pipeline import equal_counts

    seen = [("insertion", "vga"), ("pick_place", "red_cylinder")]
    successes = {"rl": {"insertion/vga": 9, "pick_place/red_cylinder": 0},
                 "human": {"insertion/vga": 6, "pick_place/red_cylinder": 5}}
    assert equal_counts(seen, successes, wanted=8) == {("insertion", "vga"): 6}
    assert equal_counts(seen, successes, wanted=4) == {("insertion", "vga"): 4}
    with pytest.raises(RldgError, match="no seen variant"):
        equal_counts(seen[1:], successes, wanted=4)


def test_profiles_are_valid_and_a_bad_one_is_refused():
    assert get_profile("small").episodes > get_profile("tiny").episodes
    assert set(PROFILES) == {"tiny", "small", "paper", "full"}
    assert get_profile("small", seed=3).seed == 3 and get_profile("small").seed == 0
    assert get_profile("tiny").tasks == TASKS  # the end-to-end test covers every family
    with pytest.raises(RldgError, match="unknown demo profile"):
        get_profile("huge")
    with pytest.raises(RldgError, match="efficiency_sizes"):
        DemoProfile(name="x", episodes=1, collect_factor=1, generalist_steps=1, eval_episodes=1,
                    efficiency_sizes=(4, 2))


def test_stage_cache_skips_finished_work_and_an_interrupted_stage_leaves_nothing(tmp_path):
    cache = StageCache(tmp_path / "cache")
    calls = []

    def work(folder: Path):
        calls.append(folder)
        (folder / "out.txt").write_text("done")
        return {"n": 1}

    first = cache.run("stage", {"a": 1}, work)
    again = cache.run("stage", {"a": 1}, work)
    assert first == again and len(calls) == 1 and (first / "out.txt").read_text() == "done"
    assert cache.run("stage", {"a": 2}, work) != first and len(calls) == 2

    def interrupted(folder: Path):
        (folder / "half.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.run("other", {"a": 1}, interrupted)
    assert not cache.done("other", {"a": 1})
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(("other", ".tmp"))] == []


@pytest.mark.slow
@pytest.mark.timeout(3600)  # as the demo's own subprocess timeout: 24 min on 2 loaded cores (load ~10)
def test_tiny_demo_runs_end_to_end_and_results_have_every_cell(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    cmd = [sys.executable, "-m", "rldg_data.cli", "demo", "--profile", "tiny", "--out", str(out)]
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    assert res.returncode == 0, res.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["not_trained"] == {"rl/assembly": recipes.NOT_TRAINED}
    for dataset in recipes.DATASETS:
        for task in TASKS:
            if dataset not in recipes.family_datasets(task) and dataset != "rldg":
                assert task not in results["table"][dataset]  # assembly: rl is N/A, relabeled = human
                continue
            for split in ("seen", "unseen"):
                cell = results["table"][dataset][task][split]
                assert 0.0 <= cell["success_rate"] <= 1.0 and cell["episodes"] >= 1
                assert cell["ci95"][0] <= cell["success_rate"] <= cell["ci95"][1]
                assert "median_cycle_time" in cell
    assert results["same_data"] == {"rldg/insertion": "rl", "rldg/pick_place": "rl"}
    for dataset in ("rldg", "human", "human_trimmed"):  # per-stage success of the whole assembly task
        for split in ("seen", "unseen"):
            assert results["stages"][dataset]["assembly"][split]["order"] == ["grasped", "transported", "inserted"]
    assert set(results["handoff_vs_trimmed_human"]["assembly"]) == {"seen", "unseen"}
    # Use case 2's two rows get more seen episodes (tiny: 2), the others and unseen keep the profile's (1).
    table = results["table"]
    assert table["rldg"]["assembly"]["seen"]["episodes"] == table["human_trimmed"]["assembly"]["seen"]["episodes"] == 2
    assert table["human"]["assembly"]["seen"]["episodes"] == table["rldg"]["assembly"]["unseen"]["episodes"] == 1
    mix_card = Path(results["datasets"]["rldg_assembly"]) / "README.md"
    assert "| assembly_round_nut | rl | trim_pauses |" in mix_card.read_text()
    assert set(results["gaps_vs_human"]) == {"rldg", "rl", "relabeled", "human_trimmed"}
    assert "[" in (out / "results.md").read_text()  # intervals are shown
    assert len(results["paper_comparison"]) == 7
    assert set(results["efficiency"]["sizes"]) == {"rl", "human"}
    assert all(len(v) >= 1 for v in results["efficiency"]["sizes"].values())
    # Several training seeds on one dataset (tiny: seeds 0 and 1 for human and relabeled data).
    for dataset, tasks in (("human", TASKS), ("relabeled", ("insertion", "pick_place"))):
        for task in tasks:
            assert set(results["seed_evaluations"][dataset][task]) == {"0", "1"}
            row = results["seed_table"][dataset][task]["seen"]
            assert set(row["seeds"]) == {"0", "1"} and row["pooled"]["episodes"] == 2 * row["seeds"]["0"]["episodes"]
            assert results["evaluations"][dataset][task] == results["seed_evaluations"][dataset][task]["0"]
            first = json.loads((Path(results["generalists"][f"{dataset}_{task}"]).parent / "stage.json").read_text())
            other = json.loads((Path(results["generalists"][f"{dataset}_{task}_train1"]).parent
                                / "stage.json").read_text())
            assert first["inputs"]["dataset"] == other["inputs"]["dataset"]  # the same dataset, built once
            assert (first["inputs"]["seed"], other["inputs"]["seed"]) == (0, 1)
    assert "rl" not in results["seed_evaluations"] and "relabeled" in results["relabel_ablation_by_seed"].get(
        "insertion", {}).get("pooled", {})
    assert "Training seeds: one generalist per seed" in (out / "results.md").read_text()
    pp = results["pick_place_generalization"]
    assert set(pp["specialists"]) == {"red_cylinder", "blue_block"} and "rl" in pp["generalists"]
    assert {pp["split"][v] for v in pp["variants"]} == {"seen", "unseen"}
    assert "privileged state" in results["inputs"]
    assert (out / "report.html").is_file() and list((out / "figures").glob("*.png"))
    for report in results["reports"].values():
        assert (Path(report) / "index.html").is_file()
    # A rerun finds every stage cached: it runs no command.
    commands = (out / "commands.log").read_text()
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "commands.log").read_text() == commands
