"""Recipes: validated in one place, errors name the key or source, the hash is canonical."""

from __future__ import annotations

import pytest

from rldg_data.errors import RecipeError
from rldg_data.mix.recipe import load_recipe, recipe_from_dict
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes


@pytest.fixture
def source(tmp_path):
    write_dataset(make_episodes(3, image_size=8), tmp_path, "src")
    return tmp_path


def test_yaml_recipe_loads_with_defaults_merged_into_sources(source):
    (source / "r.yaml").write_text(
        "name: m\nseed: 3\nfilters: {success_only: true}\n"
        "sources:\n  rl: {path: src, count: 2, filters: {max_length: 9}}\n")
    recipe = load_recipe(source / "r.yaml")
    rl = recipe.source("rl")
    assert rl.filters.success_only and rl.filters.max_length == 9 and rl.count == 2
    assert rl.location.endswith("src/1.0.0")


@pytest.mark.parametrize("values, named", [
    ({"name": "m", "sources": {"rl": {"path": "src"}}, "sed": 1}, "'sed'"),
    ({"name": "m", "sources": {"rl": {"path": "src", "wieght": 1}}}, "'wieght'"),
    ({"name": "m", "sources": {"rl": {"path": "src", "filters": {"succes_only": True}}}}, "'succes_only'"),
    ({"name": "m", "sources": {"rl": {"path": "nowhere"}}}, "recipe.sources.rl"),
    ({"name": "m", "sources": {"rl": {"path": "src", "weight": 1}, "h": {"path": "src", "count": 1}}}, "weight"),
    ({"name": "m", "sources": {"rl": {"path": "src"}}, "val_fraction": 1.5}, "val_fraction"),
])
def test_bad_recipe_is_an_error_naming_the_key_or_source(source, values, named):
    with pytest.raises(RecipeError, match=named):
        recipe_from_dict(values, source)


def test_recipe_hash_is_canonical_and_changes_with_content(source, tmp_path_factory):
    a = recipe_from_dict({"name": "m", "seed": 1, "sources": {"rl": {"path": "src", "weight": 1}}}, source)
    b = recipe_from_dict({"sources": {"rl": {"weight": 1.0, "path": "src"}}, "seed": 1, "name": "m"}, source)
    c = recipe_from_dict({"name": "m", "seed": 2, "sources": {"rl": {"path": "src", "weight": 1}}}, source)
    assert a.hash == b.hash != c.hash
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    write_dataset(make_episodes(3, image_size=8), elsewhere, "src")
    d = recipe_from_dict({"name": "m", "seed": 1, "sources": {"rl": {"path": "src", "weight": 1}}}, elsewhere)
    assert d.hash == a.hash  # the hash does not depend on where the recipe lives
