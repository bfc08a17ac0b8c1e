"""trainers.external: another tool's Python and script are checked before anything runs in them."""

from __future__ import annotations

import sys

import pytest

from rldg_data.errors import UnavailableError
from trainers.external import external_script


def test_a_missing_script_names_the_option_that_points_at_the_clone(tmp_path):
    with pytest.raises(UnavailableError, match="--octo-repo") as err:
        external_script(sys.executable, "json", "setup help", str(tmp_path), "scripts/finetune.py",
                        "--octo-repo", "octo-models/octo")
    assert str(tmp_path / "scripts" / "finetune.py") in str(err.value)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "finetune.py").write_text("")
    python, script = external_script(sys.executable, "json", "setup help", str(tmp_path), "scripts/finetune.py",
                                     "--octo-repo", "octo-models/octo")
    assert script == tmp_path / "scripts" / "finetune.py" and python
    with pytest.raises(UnavailableError, match="setup help"):
        external_script(sys.executable, "no_such_module_here", "setup help", None, "x.py", "--repo", "x/x")
