"""The package layout the project promises: six packages, dependencies pointing inward."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["rldg_data", "builders", "collectors", "trainers", "viz", "robot_io"]


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_has_a_docstring(name):
    mod = importlib.import_module(name)
    assert mod.__doc__ and len(mod.__doc__.split()) >= 20


def test_core_imports_none_of_the_others():
    code = (
        "import sys, rldg_data, rldg_data.cli, rldg_data.io.reader, rldg_data.io.writer, rldg_data.contract.validate\n"
        "import pkgutil, importlib\n"
        "for m in pkgutil.walk_packages(rldg_data.__path__, 'rldg_data.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {PACKAGES[1:]!r}]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
