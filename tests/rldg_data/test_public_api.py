"""The public API of `rldg_data`: every name resolves, and `import rldg_data` stays light."""

from __future__ import annotations

import subprocess
import sys

import rldg_data


def test_import_is_light():
    code = ("import sys, rldg_data\n"
            "heavy = [m for m in ('tensorflow', 'apache_beam', 'torch', 'jax', 'tensorflow_datasets') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]


def test_every_public_name_resolves_to_its_module_object():
    import importlib

    for name in rldg_data.__all__:
        value = getattr(rldg_data, name)
        module = rldg_data._LAZY.get(name)  # noqa: SLF001
        if module:
            assert value is getattr(importlib.import_module(module), name)
    assert set(rldg_data._LAZY) <= set(dir(rldg_data))  # noqa: SLF001


def test_write_read_validate_round_trip(tmp_path, episodes):
    path = rldg_data.write_dataset(episodes, tmp_path, "api")
    back = rldg_data.read_episodes(path)
    assert [e.episode_id for e in back] == [e.episode_id for e in episodes]
    assert rldg_data.validate_dataset(path).ok
    assert rldg_data.open_dataset(path).num_episodes == len(episodes)
