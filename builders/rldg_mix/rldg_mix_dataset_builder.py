"""rldg_mix: a TFDS builder whose configs are mixing recipes (recipes/*.yaml, or RLDG_MIX_RECIPE).

    PYTHONPATH=builders tfds build builders/rldg_mix --config NAME --data_dir D \
        --beam_pipeline_options="direct_running_mode=multi_processing,direct_num_workers=2"

The work (read sources, filter, dedup, select, relabel, split, statistics) is the Beam pipeline of
`rldg_data.mix.pipeline`, run with the `--beam_pipeline_options` given to `tfds build`; TFDS then
writes the examples it yields (JPEG bytes passed through) and `dataset_statistics*.json` plus the
card are copied beside them. `rldg mix RECIPE.yaml` writes the same episodes without this second
write (see README.md for why both exist).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import tensorflow_datasets as tfds

from rldg_data.contract import spec
from rldg_data.io.reader import iter_episodes, open_dataset
from rldg_data.mix.recipe import load_recipe

RECIPES = Path(__file__).with_name("recipes")
RECIPE_ENV = "RLDG_MIX_RECIPE"  # a recipe file to build as config "custom"
_SIDE_FILES = ("dataset_statistics*.json", "README.md", "rldg_info.json")


def _recipe_files() -> dict[str, Path]:
    found = {p.stem: p for p in sorted(RECIPES.glob("*.yaml"))}
    if os.environ.get(RECIPE_ENV):
        found["custom"] = Path(os.environ[RECIPE_ENV])
    return found


class RldgMixConfig(tfds.core.BuilderConfig):
    """A builder config naming one recipe file."""

    def __init__(self, *, recipe_file: str, **kwargs):
        super().__init__(**kwargs)
        self.recipe_file = recipe_file


class Builder(tfds.core.GeneratorBasedBuilder):
    """RLDS mix of specialist rollouts and human demos, selected by a recipe."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIGS = [RldgMixConfig(name=n, recipe_file=str(p), description=f"recipe {p.name}")
                       for n, p in _recipe_files().items()]

    def _recipe(self):
        return load_recipe(self.builder_config.recipe_file)

    def _info(self) -> tfds.core.DatasetInfo:
        try:
            recipe = self._recipe()
            first = recipe.sources[0]
            data_spec = open_dataset(first.location).spec
        except Exception:  # sources not built yet: declare the default contract features
            data_spec = spec.DatasetSpec()
        return self.dataset_info_from_configs(features=spec.features_for(data_spec),
                                              supervised_keys=None, homepage="", citation="")

    def _download_and_prepare(self, dl_manager, download_config=None):
        self._beam_options = getattr(download_config, "beam_options", None)
        self._work = Path(tempfile.mkdtemp(prefix="rldg_mix-"))
        try:
            super()._download_and_prepare(dl_manager, download_config)
            for pattern in _SIDE_FILES:
                for f in self._built.glob(pattern):
                    shutil.copy(f, Path(self.data_dir) / f.name)
        finally:
            shutil.rmtree(self._work, ignore_errors=True)

    def _split_generators(self, dl_manager):
        from rldg_data.mix.pipeline import build_mix

        self._built = build_mix(self._recipe(), self._work, self._beam_options)
        return {split: self._generate_examples(self._built, split) for split in open_dataset(self._built).shards}

    def _generate_examples(self, path, split):
        for episode in iter_episodes(path, split, decode_images=False, validate=False):
            yield episode.episode_id, _example(episode)


def _example(episode) -> dict:
    """A contract Episode as the nested dict TFDS's features encode (images stay encoded bytes)."""
    steps: dict = {}
    for name, values in episode.steps.items():
        head, _, leaf = name.partition("/")
        if leaf:
            steps.setdefault(head, {})[leaf] = list(values) if values.dtype == object else values
        else:
            steps[name] = values
    return {spec.STEPS: steps, spec.EPISODE_METADATA: episode.metadata.to_dict()}
