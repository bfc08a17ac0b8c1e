"""Mixing datasets: a YAML recipe run as an Apache Beam pipeline (`rldg mix`, `builders/rldg_mix`).

`recipe` parses and checks a recipe; `plan` selects episodes deterministically (hash of seed +
episode_id; weights -> exact counts); `episode_ops` applies a source's filters and relabels to one
episode; `beam_transforms` are the Beam PTransforms over `Episode`s; `pipeline.build_mix` runs the
whole pipeline and `finalize` writes the TFDS metadata; `cli` is `rldg mix`. Import Beam-dependent
names from the submodules; this package init stays light and re-exports nothing.
"""
