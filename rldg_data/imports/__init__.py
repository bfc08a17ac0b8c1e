"""Imports of other tools' datasets into the contract: the toolkit's one home for foreign formats.

`mapping` parses the small YAML files that say what cannot be guessed (which key is the state,
which camera is `image`, how the action maps to [-1, 1]); `rlds` reads any RLDS dataset on disk
(`tfds.builder_from_directory`, e.g. Open X-Embodiment) through such a mapping; `lerobot_files`
opens and validates a LeRobot v3.0 folder and `lerobot` turns it into contract `Episode`s;
`hil_serl` converts HIL-SERL's pickled transitions (only with an explicit opt-in). The TFDS
builders in `builders/` (`rlds_import`, `lerobot_import`, `hil_serl`) hand off to these modules.
Import from the submodules; this package init re-exports nothing.
"""
