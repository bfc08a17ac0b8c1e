"""The `rldg` command as a user runs it: no TensorFlow start-up lines, no traceback for a user error.

Each command runs in a fresh process with `TF_CPP_MIN_LOG_LEVEL` unset (as in a user's shell), so
what is checked is what the command line itself does about TensorFlow's noise.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rldg_data.cli import is_startup_noise

# What TensorFlow 2.21 prints on import when nothing silences it (seen on this machine).
NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796069238.914834   11311 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1796069187.402339    9786 cpu_feature_guard.cc:227] This TensorFlow binary is optimized",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.",
    "2024-01-11 05:40:05.061907: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow",
]


def _rldg(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}
    return subprocess.run([sys.executable, "-m", "rldg_data.cli", *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=cwd)


def _assert_quiet(stderr: str) -> None:
    assert "oneDNN" not in stderr and "absl::InitializeLog" not in stderr, stderr
    assert not [line for line in stderr.splitlines() if is_startup_noise(line)], stderr
    assert "Traceback" not in stderr, stderr


@pytest.mark.parametrize("line", NOISE)
def test_startup_noise_is_recognised(line):
    assert is_startup_noise(line)


@pytest.mark.parametrize("line", [
    "rldg validate: error: /x is not a TFDS dataset folder",
    "E0000 00:00:1796069238.914834   11311 some_op.cc:12] an error record stays",
    "Traceback (most recent call last):",
    "WARNING rldg_data.mix: 3 episodes dropped",
])
def test_other_lines_are_kept(line):
    assert not is_startup_noise(line)


def test_help_and_validate_print_no_startup_lines(tiny_dataset):
    path, episodes = tiny_dataset
    res = _rldg("--help")
    assert res.returncode == 0 and "validate" in res.stdout
    _assert_quiet(res.stderr)
    res = _rldg("validate", str(path))
    assert res.returncode == 0, res.stderr
    assert f"episodes  {len(episodes)}" in res.stdout
    _assert_quiet(res.stderr)
    assert res.stderr == ""


def test_user_errors_are_one_line_rc_2(tiny_dataset, tmp_path):
    path, _ = tiny_dataset
    res = _rldg("validate", str(tmp_path / "nosuch"))
    assert res.returncode == 2
    _assert_quiet(res.stderr)
    assert res.stderr.count("\n") == 1 and "nosuch" in res.stderr

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"name: m\nseed: zero\nsources:\n  rl:\n    path: {path}\n")
    res = _rldg("mix", str(recipe), "--data-dir", str(tmp_path / "out"))
    assert res.returncode == 2, res.stderr
    _assert_quiet(res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert str(recipe) in lines[0] and "recipe.seed" in lines[0] and "'zero'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_verbose_shows_the_traceback_of_a_user_error(tmp_path):
    res = _rldg("-v", "validate", str(tmp_path / "nosuch"))
    assert res.returncode == 2
    assert "Traceback" in res.stderr and res.stderr.rstrip().splitlines()[-1].startswith("rldg validate: error:")
