"""Writes dummy_data/: a small RLDS dataset with Open X-Embodiment style keys unlike ours (built by
the plain TFDS builder of tests/builders/oxe_toy.py: 5 episodes, 24x24 `observation/rgb`, 7-D
`observation/joint_pos`, a 7-D action in [-2, 2]), and the mapping.yaml that imports it.

    PYTHONPATH=. .venv/bin/python builders/rlds_import/make_dummy_data.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.builders import oxe_toy

HERE = Path(__file__).parent / "dummy_data"

MAPPING = """\
# The dummy OXE-style dataset beside this file, mapped onto the contract (format: rldg_data/imports/rlds.py).
dataset: oxe_toy/0.1.0
image: steps/observation/rgb
state: steps/observation/joint_pos
action: {key: steps/action, dims: [0, 1, 2, 6], low: [-2, -2, -2, -2, -2, -2, 0], high: [2, 2, 2, 2, 2, 2, 1]}
language_instruction: episode_metadata/instruction
episode_id: episode_metadata/file_path
task: pick_place
variant: block
"""

if __name__ == "__main__":
    shutil.rmtree(HERE / "oxe_toy", ignore_errors=True)
    HERE.mkdir(exist_ok=True)
    oxe_toy.build(HERE)
    (HERE / "mapping.yaml").write_text(MAPPING)
