"""`rldg show DATA/<builder>` as `--help` promises: TFDS's config folder level is resolved, or the
error lists the candidates ("did you mean ...") — issue 22 #7."""

from __future__ import annotations

from rldg_data.cli import main
from rldg_data.io.writer import write_dataset
from tests.factories import make_episodes


def test_show_of_a_builder_folder_resolves_its_config_or_lists_them(tmp_path, capsys):
    builder = tmp_path / "data" / "rldg_rollouts"
    write_dataset(make_episodes(3), builder, "default")  # data/rldg_rollouts/default/1.0.0, as tfds build
    assert main(["show", str(builder), "--no-stats"]) == 0
    assert "3" in capsys.readouterr().out
    write_dataset(make_episodes(2, seed=1), builder, "run1")
    assert main(["show", str(builder), "--no-stats"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" in err and str(builder / "default") in err and str(builder / "run1") in err
    assert "Traceback" not in err
    assert main(["show", str(builder / "run1"), "--no-stats"]) == 0
