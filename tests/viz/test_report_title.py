"""`rldg report` on a mix built by `tfds build builders/rldg_mix`: the page is titled with the
recipe's name (the builder config), not "rldg_mix 1.0.0" (issue 33)."""

from __future__ import annotations

import sys
from pathlib import Path

from rldg_data.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _mix_builder():
    sys.path.insert(0, str(ROOT / "builders"))
    try:
        from rldg_mix.rldg_mix_dataset_builder import Builder
    finally:
        sys.path.remove(str(ROOT / "builders"))
    return Builder


def test_report_title_is_the_recipe_name(tmp_path, capsys):
    builder = _mix_builder()(config="dummy", data_dir=str(tmp_path / "data"))
    builder.download_and_prepare()
    version = tmp_path / "data" / "rldg_mix" / "dummy" / "1.0.0"
    assert main(["report", str(version), "--out", str(tmp_path / "r"), "--video", "none", "--samples", "0"]) == 0
    page = (tmp_path / "r" / "index.html").read_text()
    assert "<title>dummy (rldg_mix) 1.0.0</title>" in page
    # `rldg ls` shows the same dataset with its config and what built it
    assert main(["ls", str(tmp_path / "data")]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("rldg_mix/dummy/1.0.0"))
    assert "rldg_mix" in line and "dummy" in line and "tfds build" in line
