"""Datasets on disk: reading, writing and the record formats in between.

`atomic` writes files and folders through a temporary path and a rename (never a half-written
dataset); `tfexample` encodes and decodes an episode as a `tf.train.Example`; `images` encodes and
decodes JPEG frames; `reader` opens and iterates a TFDS dataset folder; `writer` writes one;
`card` renders a mix's dataset card; `beam_io` reads contract shards and writes TFRecord parts in a
Beam pipeline; `records` and `frames` index records and decode frames for the training loaders.
Import from the submodules; this package init re-exports nothing.
"""
