"""Imports of other people's datasets into the contract: shared mapping pieces and RLDS on disk.

`mapping` parses the small YAML files that say what cannot be guessed (which key is the state,
which camera is `image`, how the action maps to [-1, 1]); `rlds` reads any RLDS dataset on disk
(`tfds.builder_from_directory`) through such a mapping into contract `Episode`s. LeRobot's format
has its own reader in `rldg_data.lerobot.read`, using the same mapping pieces.
"""
