"""Datasets on disk: reading, writing and the record formats in between (the one record layer).

`records` is TFRecord framing (the one reader, CRC-checked, the writer, and an offset index for
random access); `codec` encodes and decodes an episode as a `tf.train.Example` (and the nested
dict TFDS builders yield) and holds the one decode -> violations -> location check;
`example_proto` builds the Example message classes without TensorFlow; `images` is the one frame
codec (JPEG decoded by libjpeg-turbo via simplejpeg); `reader` opens and iterates a TFDS dataset
folder; `writer` writes one; `atomic` writes through a temporary path and a rename (never a
half-written dataset); `card` renders a mix's dataset card; `beam_io` adapts reading and part
writing to a Beam pipeline. Reading imports no TensorFlow. Import from the submodules; this
package init re-exports nothing.
"""
