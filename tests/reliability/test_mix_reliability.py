"""Mixes are never silently wrong: bad recipes fail clearly with no output, a mix killed mid-run
leaves the old mix intact, and the same recipe on the same inputs gives the same digest."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.data.make_bad_inputs import make_recipes, write_unchecked
from tests.factories import make_episodes

REPO = Path(__file__).resolve().parents[2]
HAVE_MIX = importlib.util.find_spec("rldg_data.mix.pipeline") is not None
HAVE_MIX_CLI = importlib.util.find_spec("rldg_data.mix.cli") is not None
needs_mix = pytest.mark.skipif(not HAVE_MIX, reason="rldg_data.mix.pipeline (issue 5) missing")
needs_mix_cli = pytest.mark.skipif(not HAVE_MIX_CLI, reason="rldg_data.mix.cli (`rldg mix`, issue 5) missing")

RECIPE = """\
name: {name}
seed: 3
val_fraction: 0.2
sources:
  rl: {{path: {rl}, weight: 0.5}}
  human: {{path: {human}, weight: 0.5}}
"""


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    rl = write_unchecked(root / "rl", make_episodes(12, seed=1))
    human = write_unchecked(root / "human", make_episodes(12, seed=2))
    return rl, human


def _recipe(folder: Path, sources, name: str = "mix_a") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(RECIPE.format(name=name, rl=sources[0], human=sources[1]))
    return path


def _build(recipe_path: Path, data_dir: Path, overwrite: bool = False) -> Path:
    from rldg_data.mix.pipeline import build_mix
    from rldg_data.mix.recipe import load_recipe

    return build_mix(load_recipe(recipe_path), data_dir, overwrite=overwrite)


@pytest.mark.parametrize("case, words", [("recipe_typo", "unknown key 'weigth'"),
                                         ("recipe_missing_source", "does_not_exist")])
def test_bad_recipe_is_a_clear_error(sources, tmp_path, case, words):
    from rldg_data.errors import RecipeError
    from rldg_data.mix.recipe import load_recipe

    path = make_recipes(tmp_path / "recipes", sources[0])[case]
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert path.name in str(info.value) and words in str(info.value) and "sources.rl" in str(info.value)


@needs_mix_cli
@pytest.mark.parametrize("case", ["recipe_typo", "recipe_missing_source"])
def test_bad_recipe_exits_nonzero_with_no_output(sources, tmp_path, case):
    path = make_recipes(tmp_path / "recipes", sources[0])[case]
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "rldg_data.cli", "mix", str(path), "--data_dir", str(out)],
                         cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
                         text=True, timeout=300)
    assert res.returncode != 0 and path.name in res.stderr and "sources.rl" in res.stderr
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


@needs_mix
def test_same_recipe_same_inputs_same_digest_in_card(sources, tmp_path):
    from rldg_data.sharing.archive import recompute_digest

    recipe = _recipe(tmp_path / "r", sources)
    first = _build(recipe, tmp_path / "a")
    second = _build(recipe, tmp_path / "b")
    digests = [json.loads((p / "rldg_info.json").read_text())["digest"] for p in (first, second)]
    assert digests[0] == digests[1] == recompute_digest(first)[0] == recompute_digest(second)[0]
    assert digests[0] in (first / "README.md").read_text()
    changed = tmp_path / "r2" / "mix_a.yaml"
    changed.parent.mkdir()
    changed.write_text(recipe.read_text().replace("seed: 3", "seed: 4"))
    other = _build(changed, tmp_path / "c")  # another seed, another recipe hash: another digest
    assert json.loads((other / "rldg_info.json").read_text())["digest"] != digests[0]


@pytest.mark.slow  # ~35 s on 2 busy cores: two full mixes and a killed one
@needs_mix
def test_sigkill_during_mix_keeps_old_mix_then_rerun_succeeds(sources, tmp_path):
    from rldg_data.sharing.archive import verify_dataset

    recipe = _recipe(tmp_path / "r", sources)
    data_dir = tmp_path / "data"
    old = _build(recipe, data_dir)
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    code = ("import sys; from rldg_data.mix.pipeline import build_mix; from rldg_data.mix.recipe import load_recipe;"
            f"build_mix(load_recipe({str(recipe)!r}), {str(data_dir)!r}, overwrite=True)")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not any(p.is_file() for p in (data_dir / "mix_a").glob(".tmp-*/**/*")):
            assert proc.poll() is None, "mix ended before the kill point"
            assert time.time() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before  # old mix untouched
    assert sorted(p.name for p in (data_dir / "mix_a").iterdir() if not p.name.startswith(".")) == ["1.0.0"]
    assert verify_dataset(old, check_manifest=False).ok
    again = _build(recipe, data_dir, overwrite=True)
    assert json.loads((again / "rldg_info.json").read_text())["digest"] == \
        json.loads(before["rldg_info.json"])["digest"]
