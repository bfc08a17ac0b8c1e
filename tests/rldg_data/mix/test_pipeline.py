"""The mix pipeline: same recipe + same inputs = same episodes and statistics on any runner."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rldg_data.mix.episode_index import read_index
from rldg_data.mix.pipeline import build_mix
from rldg_data.io.reader import read_episodes
from rldg_data.mix.recipe import recipe_from_dict
from rldg_data.stats.accumulators import STATS_FILE
from rldg_data.validation.validate import validate_dataset
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    rl = write_dataset(make_episodes(40, seed=1, image_size=8), root, "rl_data")
    human_eps = make_episodes(30, seed=2, image_size=8)
    human_eps += make_episodes(3, seed=1, image_size=8)  # ids also in rl_data: dedup keeps rl's
    human = write_dataset(human_eps, root, "human_data")
    return root, rl, human


def _recipe(root, **extra):
    values = {"name": "mix_test", "seed": 7, "val_fraction": 0.2,
              "relabels": {"sparse_reward": True, "language": {"*": "insert the {variant} peg"}},
              "sources": {"rl": {"path": "rl_data", "weight": 0.6},
                          "human": {"path": "human_data", "weight": 0.4, "filters": {"max_length": 5}}}}
    values.update(extra)
    return recipe_from_dict(values, root)


def _result(path):
    info = json.loads((path / "rldg_info.json").read_text())
    stats = {p.name: json.loads(p.read_text()) for p in sorted(path.glob("dataset_statistics*.json"))}
    return [row["episode_id"] for row in read_index(path)], info["digest"], stats


@pytest.fixture(scope="module")
def direct_build(sources, tmp_path_factory):
    root, _, _ = sources
    return build_mix(_recipe(root), tmp_path_factory.mktemp("out1"))


def test_mix_is_a_valid_tfds_dataset_with_stats_card_and_recipe_hash(direct_build, sources):
    import tensorflow_datasets as tfds

    root, _, _ = sources
    report = validate_dataset(direct_build)
    assert report.ok, report.violations[:3]
    builder = tfds.builder_from_directory(str(direct_build))
    assert set(builder.info.splits) == {"train", "val"}
    recipe = _recipe(root)
    episodes = read_episodes(direct_build)
    assert {e.metadata.recipe_hash for e in episodes} == {recipe.hash}
    assert all(str(e.steps["language_instruction"][0]) == f"insert the {e.metadata.variant} peg" for e in episodes)
    assert all(e.steps["reward"].sum() == float(e.metadata.success) for e in episodes)
    info = json.loads((direct_build / "rldg_info.json").read_text())
    assert info["sources"]["human"]["duplicates_dropped"] == 3
    sel = {k: v["selected"] for k, v in info["sources"].items()}
    assert abs(sel["rl"] / sum(sel.values()) - 0.6) < 0.03
    stats = json.loads((direct_build / STATS_FILE).read_text())
    train = read_episodes(direct_build, "train")
    actions = np.concatenate([e.steps["action"][:-1] for e in train])  # RLDS: not the last step's
    assert stats["num_trajectories"] == len(train) and stats["num_transitions"] == len(actions)
    assert np.allclose(stats["action"]["mean"], actions.astype(np.float64).mean(0), atol=1e-6)
    assert stats["action"]["mask"][-1] is False and all(stats["action"]["mask"][:-1])
    for key in ("p01", "p99", "q01", "q99", "std", "min", "max"):
        assert len(stats["proprio"][key]) == 4
    assert (direct_build / "dataset_statistics_rl.json").exists()
    card = (direct_build / "README.md").read_text()
    assert recipe.hash in card and "| rl |" in card


def test_same_recipe_same_dataset_on_direct_runner_with_two_threads(direct_build, sources, tmp_path):
    root, _, _ = sources
    other = build_mix(_recipe(root), tmp_path,
                      ["--direct_running_mode=multi_threading", "--direct_num_workers=2"])
    assert _result(other) == _result(direct_build)


def test_same_recipe_same_dataset_on_dask_cluster_of_worker_processes(direct_build, sources, tmp_path):
    distributed = pytest.importorskip("distributed")
    root, _, _ = sources
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, preload=["rldg_data.mix.dask_worker"]) as cluster:
        other = build_mix(_recipe(root), tmp_path,
                          ["--runner=DaskRunner", f"--dask_client_address={cluster.scheduler_address}"])
        with distributed.Client(cluster) as client:
            loaded = client.run(lambda: sorted(m for m in __import__("sys").modules
                                               if m in ("rldg_data.mix.pipeline", "tensorflow")))
            malloc = client.run(lambda: __import__("sys").modules["rldg_data.mix.runner.malloc"]._done)
    assert _result(other) == _result(direct_build)
    # The documented preload imported the mix code when the workers started; no TensorFlow.
    assert list(loaded.values()) == [["rldg_data.mix.pipeline"]] * 2
    # ... and undid the fixed malloc thresholds the nanny starts them with (rldg_data.mix.runner.malloc).
    assert list(malloc.values()) == [True] * 2


def test_same_recipe_same_dataset_on_two_worker_processes(direct_build, sources, tmp_path):
    root, _, _ = sources
    other = build_mix(_recipe(root), tmp_path, "direct_running_mode=multi_processing,direct_num_workers=2")
    assert _result(other) == _result(direct_build)


def test_a_mix_runs_inside_ipython_as_in_a_notebook(direct_build, sources, tmp_path):
    """In IPython, Beam labels transforms through its interactive module, which imports Beam's
    dataframe layer: with pandas 3 (Beam 2.77 supports < 2.4) that import failed, so no mix could
    be built from a notebook. In process and with --workers, the result is the usual one."""
    import subprocess
    import sys
    from pathlib import Path

    root, _, _ = sources
    script = tmp_path / "in_ipython.py"
    script.write_text(
        "import json, sys\n"
        "from rldg_data.mix.pipeline import build_mix\n"
        "from tests.rldg_data.mix.test_pipeline import _recipe\n"
        "assert get_ipython() is not None\n"
        f"a = build_mix(_recipe({str(root)!r}), {str(tmp_path / 'a')!r})\n"
        f"b = build_mix(_recipe({str(root)!r}), {str(tmp_path / 'b')!r}, "
        "'direct_running_mode=multi_processing,direct_num_workers=2')\n"
        "print('DIGESTS', json.loads((a / 'rldg_info.json').read_text())['digest'], "
        "json.loads((b / 'rldg_info.json').read_text())['digest'])\n")
    ipython = Path(sys.executable).with_name("ipython")
    done = subprocess.run([str(ipython), "--colors=NoColor", str(script)], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[3])
    line = [x for x in done.stdout.splitlines() if x.startswith("DIGESTS")]
    assert line, done.stdout[-3000:] + done.stderr[-3000:]
    expected = _result(direct_build)[1]
    assert line[0].split()[1:] == [expected, expected]


def test_a_different_seed_selects_differently_but_keeps_proportions(direct_build, sources, tmp_path):
    root, _, _ = sources
    other = build_mix(_recipe(root, seed=8), tmp_path)
    ids, _, _ = _result(other)
    assert ids != _result(direct_build)[0]
    assert sum(i.startswith("ep-1-") for i in ids) == sum(i.startswith("ep-1-") for i in _result(direct_build)[0])


def test_rldg_mix_and_stats_commands(sources, direct_build, tmp_path, capsys):
    from rldg_data.cli import main

    root, _, _ = sources
    recipe = root / "mix.yaml"
    recipe.write_text("name: mix_test\nseed: 7\nval_fraction: 0.2\n"
                      "relabels: {sparse_reward: true, language: {'*': 'insert the {variant} peg'}}\n"
                      "sources:\n  rl: {path: rl_data, weight: 0.6}\n"
                      "  human: {path: human_data, weight: 0.4, filters: {max_length: 5}}\n")
    assert main(["mix", str(recipe), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rl:" in out and "left out to keep the recipe's proportions" in out  # why weights dropped some
    assert "3 episode ids already in an earlier source dropped" in out
    built = tmp_path / "mix_test" / "1.0.0"
    assert _result(built) == _result(direct_build)
    stats_file = built / "dataset_statistics.json"
    before = stats_file.read_text()
    stats_file.unlink()
    assert main(["stats", str(built)]) == 0
    assert json.loads(stats_file.read_text()) == json.loads(before)
    assert main(["mix", str(recipe), "--data-dir", str(tmp_path)]) == 2  # exists: refused without --force
    (root / "bad.yaml").write_text("name: m\nsources: {rl: {path: rl_data, wieght: 1}}\n")
    assert main(["mix", str(root / "bad.yaml"), "--data-dir", str(tmp_path)]) == 2
    assert "'wieght'" in capsys.readouterr().err


def test_weights_hold_within_two_points_on_more_than_a_thousand_episodes(tmp_path):
    from tests.factories import make_episode

    def tiny(prefix, n):
        return (make_episode(f"{prefix}-{i}", length=2, image_size=4, seed=i) for i in range(n))

    write_dataset(tiny("a", 1000), tmp_path, "a_data", max_shard_bytes=64 << 10)
    write_dataset(tiny("b", 800), tmp_path, "b_data", max_shard_bytes=64 << 10)
    recipe = recipe_from_dict({"name": "weights", "seed": 1, "val_fraction": 0.0,
                               "sources": {"a": {"path": "a_data", "weight": 0.45},
                                           "b": {"path": "b_data", "weight": 0.55}}}, tmp_path)
    info = json.loads((build_mix(recipe, tmp_path / "out") / "rldg_info.json").read_text())
    assert info["num_episodes"] >= 1000
    share = info["sources"]["a"]["selected"] / info["num_episodes"]
    assert abs(share - 0.45) <= 0.02


def test_a_mix_runs_the_pinned_runner_and_reaches_for_no_network(sources, tmp_path, caplog):
    import logging

    root, _, _ = sources
    caplog.set_level(logging.DEBUG)
    build_mix(_recipe(root), tmp_path)
    lines = [r.getMessage().lower() for r in caplog.records]
    assert any("fnapirunner" in line for line in lines)
    for word in ("prism", "download", "falling back"):  # Beam 2.77's DirectRunner fetching Prism
        assert not [line for line in lines if word in line], word


def test_mix_help_names_the_runner_and_the_recipe_docs(capsys):
    from rldg_data.cli import main

    with pytest.raises(SystemExit):
        main(["mix", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "FnApiRunner" in text and "docs/RECIPES.md" in text and "--config RECIPE.yaml" in text


@pytest.mark.parametrize("second_source", [False, True], ids=["one-pass build", "with plan pass"])
def test_a_repeated_episode_id_inside_one_source_is_an_error_naming_it(tmp_path, second_source):
    from rldg_data.errors import ContractError
    from tests.data.make_bad_inputs import write_unchecked

    eps = make_episodes(4, seed=5, image_size=8)
    sources = {"a": {"path": str(write_unchecked(tmp_path / "twice", eps + eps[:1]))}}  # a buggy writer's
    if second_source:
        sources["b"] = {"path": str(write_dataset(make_episodes(3, seed=6, image_size=8), tmp_path, "other"))}
    recipe = recipe_from_dict({"name": "dups", "sources": sources}, tmp_path)
    with pytest.raises(ContractError, match="duplicate episode_id") as info:
        build_mix(recipe, tmp_path / "out")
    assert eps[0].episode_id in str(info.value)
    assert not (tmp_path / "out" / "dups" / "1.0.0").exists()
