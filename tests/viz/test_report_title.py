"""`rldg report` on a mix built by `tfds build builders/rldg_mix`: the page is titled with the
recipe's name (the builder config), not "rldg_mix 1.0.0" (issue 33)."""

from __future__ import annotations


from rldg_data.cli import main



def _mix_builder():
    # One module name for the builder in every test process: TFDS registers a builder class once,
    # and tests/builders/test_rldg_mix.py imports it under this name too.
    from builders.rldg_mix.rldg_mix_dataset_builder import Builder

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
