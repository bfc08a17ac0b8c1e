"""rldg_mix: a TFDS builder whose configs are mixing recipes.

    tfds build builders/rldg_mix --config path/to/my_mix.yaml --data_dir D     # any recipe file
    tfds build builders/rldg_mix --config dummy --data_dir D                   # a bundled recipe
        [--beam_pipeline_options="direct_running_mode=multi_processing,direct_num_workers=2"]

A recipe file given as `--config` becomes the config named by the recipe's own `name` (its
`version` is the dataset version): `D/rldg_mix/<name>/<version>/`, so two recipes never share a
folder. Recipe format: docs/RECIPES.md. The build is `rldg mix`'s own Beam pipeline
(`rldg_data.mix.pipeline.build_into`), run with the `--beam_pipeline_options` given to `tfds build`
and writing its shards, statistics, `rldg_info.json` and card straight into the folder TFDS is
preparing; TFDS then writes `dataset_info.json` and renames the folder into place. Nothing is
written twice.

The builder base (`rldg_data.io.builder_base`) records the recipe's hash and its sources' digests
in `rldg_inputs.json`: building a changed recipe of the same name (or after a source changed) into
the same --data_dir is refused, naming what changed; `--overwrite` rebuilds it aside and swaps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import tensorflow_datasets as tfds

from rldg_data.contract import spec
from rldg_data.errors import RecipeError
from rldg_data.io.builder_base import ContractBuilder, dataset_digest_of
from rldg_data.io.reader import open_dataset, resolve_dataset_dir
from rldg_data.mix.recipe import load_recipe

RECIPES = Path(__file__).with_name("recipes")
RECIPE_ENV = "RLDG_MIX_RECIPE"  # older way: `--config custom` with this variable naming the file


class RldgMixConfig(tfds.core.BuilderConfig):
    """A builder config naming one recipe file (config name = recipe name)."""

    def __init__(self, *, recipe_file: str, **kwargs):
        super().__init__(**kwargs)
        self.recipe_file = recipe_file


def config_for(recipe_file: str | os.PathLike) -> RldgMixConfig:
    """The config of a recipe file: its recipe's name and version (paths are not checked yet)."""
    recipe = load_recipe(recipe_file, check_paths=False)
    return RldgMixConfig(name=recipe.name, version=recipe.version, recipe_file=str(Path(recipe_file).resolve()),
                         description=recipe.description or f"recipe {Path(recipe_file).name}")


class Builder(ContractBuilder):
    """RLDS mix of specialist rollouts and human demos, selected by a recipe."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    # With RLDG_MIX_RECIPE set, that recipe is the one config (what `tfds build` without --config builds).
    BUILDER_CONFIGS = ([config_for(os.environ[RECIPE_ENV])] if os.environ.get(RECIPE_ENV) else
                       [config_for(RECIPES / "dummy.yaml")])

    def _create_builder_config(self, builder_config, version):
        """`--config` may be a recipe file (or `custom` with RLDG_MIX_RECIPE set): its config is
        named after the recipe. Anything else must be a bundled config."""
        if isinstance(builder_config, str):
            if builder_config == "custom" and os.environ.get(RECIPE_ENV):
                builder_config = os.environ[RECIPE_ENV]
            name = builder_config.split(":")[0]
            if name.endswith((".yaml", ".yml")) or os.sep in name:
                builder_config = config_for(name)
                version = builder_config.version
                bundled = self.builder_configs.get(builder_config.name)
                if bundled is not None:
                    if Path(bundled.recipe_file).resolve() != Path(builder_config.recipe_file):
                        raise RecipeError(f"recipe {name} is named {builder_config.name!r}, like the recipe "
                                          f"{bundled.recipe_file}: give it another name")
                    builder_config = bundled
            elif name not in self.builder_configs:
                raise RecipeError(
                    f"rldg_mix has no config {name!r} (configs: {', '.join(sorted(self.builder_configs))}); "
                    f"pass a recipe file: --config path/to/recipe.yaml (format: docs/RECIPES.md)")
        return super()._create_builder_config(builder_config, version)

    def _recipe(self):
        return load_recipe(self.builder_config.recipe_file)

    def _find_inputs(self, manual_dir) -> str:
        return self.builder_config.recipe_file

    def _inputs_spec(self, recipe_file) -> spec.DatasetSpec:
        try:
            return open_dataset(self._recipe().sources[0].location).spec or spec.DatasetSpec()
        except Exception:  # sources not built yet: declare the default contract features
            return spec.DatasetSpec()

    def _inputs_record(self, recipe_file) -> dict:
        """The recipe's hash and each source's digest: a changed recipe (or source) of the same
        name is refused, naming what changed, instead of TFDS's silent reuse."""
        recipe = self._recipe()
        parts = {"recipe hash": recipe.hash}
        for source in recipe.sources:
            parts[f"source {source.name} digest"] = dataset_digest_of(resolve_dataset_dir(source.location))
        fingerprint = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
        return {"fingerprint": fingerprint, "parts": parts, "recipe_file": recipe_file,
                "description": f"recipe {recipe.name} (hash {recipe.hash[:12]}) of sources "
                               f"{', '.join(s.name for s in recipe.sources)}"}

    def _download_and_prepare(self, dl_manager, download_config=None):
        """The mix pipeline writes straight into the folder TFDS is preparing (`self.data_dir`);
        no example generator runs (the pipeline checks, dedups and encodes the episodes itself)."""
        from rldg_data.mix.pipeline import build_into

        if self.info.file_format != tfds.core.FileFormat.TFRECORD:
            raise RecipeError(f"rldg_mix writes TFRecord shards; --file_format {self.info.file_format.value} "
                              f"is not supported")
        split_infos = build_into(self._recipe(), self.data_dir, self.name,
                                 getattr(download_config, "beam_options", None))
        self.info.set_splits(tfds.core.SplitDict([
            dataclasses.replace(s, filename_template=self._get_filename_template(s.name)) for s in split_infos]))
        self._write_build_files(Path(os.fspath(self.data_dir)))

    def _split_generators(self, dl_manager):
        raise NotImplementedError("rldg_mix builds through rldg_data.mix.pipeline.build_into "
                                  "(see _download_and_prepare); it has no example generators")

    def _generate_examples(self, part=None):
        raise NotImplementedError("rldg_mix builds through rldg_data.mix.pipeline.build_into")
