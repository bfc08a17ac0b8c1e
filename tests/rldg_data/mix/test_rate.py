"""A mix keeps its sources' recording rate (metadata.json `fps`, contract.spec.RATE_KEY) when they
share one, and records none when they differ (issue 33: exports defaulted to 80 fps)."""

from __future__ import annotations

import json

from rldg_data.cli import main
from rldg_data.contract import spec
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode


def _source(tmp_path, name, rate):
    path = write_dataset([make_episode(f"{name}-{i}", length=4, seed=i) for i in range(2)], tmp_path / "data", name)
    if rate is not None:
        (path / "metadata.json").write_text(json.dumps({spec.RATE_KEY: rate}))
    return path


def _mix(tmp_path, name, a, b):
    recipe = tmp_path / f"{name}.yaml"
    recipe.write_text(f"name: {name}\nseed: 0\nval_fraction: 0.0\nsources:\n  a: {{path: {a}}}\n  b: {{path: {b}}}\n")
    assert main(["mix", str(recipe), "--data-dir", str(tmp_path / "mixes")]) == 0
    return tmp_path / "mixes" / name / "1.0.0"


def test_mix_keeps_a_shared_rate_and_drops_differing_ones(tmp_path):
    ten_a, ten_b, eighty = _source(tmp_path, "ten_a", 10), _source(tmp_path, "ten_b", 10), _source(tmp_path, "eighty", 80)
    same = _mix(tmp_path, "same", ten_a, ten_b)
    assert json.loads((same / "metadata.json").read_text()) == {"fps": 10}
    differ = _mix(tmp_path, "differ", ten_a, eighty)
    assert not (differ / "metadata.json").exists()
