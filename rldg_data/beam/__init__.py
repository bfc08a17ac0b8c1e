"""Beam layer of rldg-data: PTransforms that wrap the pure episode transforms, and the mix pipeline.

- `plan`: deterministic selection (hash of seed + episode_id; weights -> exact counts), pure.
- `episode_ops`: a recipe source's filters and relabels applied to one episode, pure.
- `transforms`: Beam PTransforms over PCollections of `Episode`s (Filter, Relabel, Dedup, ...).
- `io`: DoFns reading contract shards and writing TFRecord parts with atomic renames.
- `stats_fn`: `ComputeStats`, a CombineFn over exact, mergeable statistics accumulators.
- `mix`: `build_mix(recipe, data_dir, beam_options)`, the whole pipeline plus TFDS metadata.

Import Beam-dependent names from the submodules; this package init stays light.
"""
