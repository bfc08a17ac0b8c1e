"""builders/rldg_mix, used as a user would: `tfds build builders/rldg_mix --config RECIPE.yaml`.

One build (the mix pipeline writes straight into the folder TFDS prepares), the recipe's name as
the config name, the same data as `rldg mix`, and no download of any runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rldg_data.mix.episode_index import read_index

ROOT = Path(__file__).resolve().parents[2]
BUILDER_DIR = ROOT / "builders" / "rldg_mix"
DUMMY = BUILDER_DIR / "dummy_data"


def _builder_class():
    # As builders.rldg_mix (not rldg_mix, as `tfds build` imports it): TFDS registers a dataset name
    # once a process, and builders/rldg_mix/rldg_mix_dataset_builder_test.py imports it so too.
    from builders.rldg_mix.rldg_mix_dataset_builder import Builder

    return Builder


def _recipe(folder: Path, name: str, seed: int = 0) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nseed: {seed}\nval_fraction: 0.2\nrelabels: {{sparse_reward: true}}\n"
                    f"sources:\n  rl: {{path: {DUMMY / 'rl_demo'}, weight: 0.5}}\n"
                    f"  human: {{path: {DUMMY / 'human_demo'}, weight: 0.5}}\n")
    return path


def _tfds_build(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "RLDG_MIX_RECIPE"}
    env = dict(base, PYTHONPATH=os.pathsep.join([str(BUILDER_DIR.parent), str(ROOT)]), **(env or {}))
    tfds_cli = Path(sys.executable).with_name("tfds")
    return subprocess.run([str(tfds_cli), "build", str(BUILDER_DIR), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _digest(folder: Path) -> str:
    return json.loads((folder / "rldg_info.json").read_text())["digest"]


def test_builder_builds_the_dummy_recipe_into_a_loadable_dataset(tmp_path):
    import tensorflow_datasets as tfds

    from rldg_data.validation.validate import validate_dataset

    Builder = _builder_class()
    assert [c.name for c in Builder.BUILDER_CONFIGS] == ["dummy"]
    builder = Builder(config="dummy", data_dir=str(tmp_path))
    builder.download_and_prepare()
    folder = Path(builder.data_dir)
    assert folder == tmp_path / "rldg_mix" / "dummy" / "1.0.0"
    assert validate_dataset(folder).ok
    assert (folder / "dataset_statistics.json").exists() and (folder / "README.md").exists()
    info = json.loads((folder / "rldg_info.json").read_text())
    loaded = tfds.builder("rldg_mix/dummy", data_dir=str(tmp_path))
    assert loaded.info.splits.total_num_examples == info["num_episodes"] > 0
    ids = sorted(i.decode() for split in loaded.info.splits
                 for i in loaded.as_dataset(split=split).map(
                     lambda ex: ex["episode_metadata"]["episode_id"]).as_numpy_iterator())
    assert ids == [row["episode_id"] for row in read_index(folder)]
    assert not [p.name for p in folder.iterdir() if p.name.startswith((".", "part-"))]  # no leftovers


def test_the_builder_writes_each_episode_once_and_the_same_data_as_rldg_mix(tmp_path, monkeypatch):
    """TFDS's own example writer never runs: the pipeline's parts are the dataset's shards."""
    import tensorflow_datasets as tfds

    from rldg_data.mix.pipeline import build_mix
    from rldg_data.mix.recipe import load_recipe

    def no_second_write(*args, **kwargs):
        raise AssertionError("TFDS's example writer ran: the mix was written a second time")

    monkeypatch.setattr(tfds.core.writer.Writer, "write", no_second_write)
    monkeypatch.setattr(tfds.core.writer.Writer, "finalize", no_second_write)
    recipe = _recipe(tmp_path, "once")
    builder = _builder_class()(config=str(recipe), data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare()
    mixed = build_mix(load_recipe(recipe), tmp_path / "mixes")
    assert _digest(Path(builder.data_dir)) == _digest(mixed)
    assert json.loads((Path(builder.data_dir) / "dataset_statistics.json").read_text()) == \
        json.loads((mixed / "dataset_statistics.json").read_text())


def test_unknown_config_says_how_to_pass_a_recipe(tmp_path):
    from rldg_data.errors import RecipeError

    with pytest.raises(RecipeError, match=r"--config path/to/recipe.yaml .*docs/RECIPES.md"):
        _builder_class()(config="nosuch", data_dir=str(tmp_path))


def test_tfds_build_two_recipe_files_gives_two_datasets_named_after_them(tmp_path):
    a, b = _recipe(tmp_path, "mix_a", seed=0), _recipe(tmp_path, "mix_b", seed=1)
    for recipe in (a, b):
        res = _tfds_build("--config", str(recipe), "--data_dir", str(tmp_path / "data"), cwd=tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        text = (res.stdout + res.stderr).lower()
        for word in ("prism", "github.com", "falling back"):  # Beam's DirectRunner fetching its Prism runner
            assert word not in text, f"a build reached for the network ({word!r} in its log)"
    first, second = tmp_path / "data/rldg_mix/mix_a/1.0.0", tmp_path / "data/rldg_mix/mix_b/1.0.0"
    assert json.loads((first / "rldg_info.json").read_text())["name"] == "mix_a"
    assert json.loads((second / "rldg_info.json").read_text())["name"] == "mix_b"
    assert _digest(first) != _digest(second)  # another seed: neither overwrote the other


def test_tfds_build_with_rldg_mix_recipe_and_no_config_builds_that_recipe_only(tmp_path):
    recipe = _recipe(tmp_path, "from_env")
    res = _tfds_build("--data_dir", str(tmp_path / "data"), cwd=tmp_path, env={"RLDG_MIX_RECIPE": str(recipe)})
    assert res.returncode == 0, res.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "data/rldg_mix").iterdir() if not p.name.startswith(".")) == \
        ["from_env"]


@pytest.mark.slow
def test_tfds_build_cli_with_two_beam_workers(tmp_path):
    res = _tfds_build("--config", "dummy", "--data_dir", str(tmp_path),
                      "--beam_pipeline_options=direct_running_mode=multi_processing,direct_num_workers=2",
                      cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    folder = next(tmp_path.glob("rldg_mix/dummy/*"))
    assert (folder / "dataset_statistics.json").exists()
