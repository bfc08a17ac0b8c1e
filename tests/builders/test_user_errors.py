"""Every builder's user errors, as a user meets them: the real `tfds build` command prints ONE line
naming the file and key (no absl traceback) and exits non-zero; nothing is built."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rldg_data.cli import is_startup_noise

REPO = Path(__file__).resolve().parents[2]
TFDS = str(Path(sys.executable).parent / "tfds")
BUILDERS = REPO / "builders"


def tfds_build(builder: str, *args: str) -> subprocess.CompletedProcess:
    """`tfds build builders/<builder> ARGS` as README tells a user to run it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(BUILDERS), str(REPO)]), TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("RLDG_MIX_RECIPE", None)
    return subprocess.run([TFDS, "build", f"builders/{builder}", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def error_lines(res: subprocess.CompletedProcess) -> list[str]:
    """The lines a user reads as the error: stderr without log lines (absl's `I1206 19:00:00.1 ...`,
    Python logging's `WARNING:root:...`, e.g. Beam's on import) and TensorFlow's start-up notices
    (the ones `rldg` itself hides: `rldg_data.cli.is_startup_noise`; machine-dependent, as TF 2.21
    prints its oneDNN notice through absl whatever TF_CPP_MIN_LOG_LEVEL says)."""
    keep = []
    for line in res.stderr.splitlines():
        if not line.strip() or line[:1] in "IW" and line[1:5].isdigit() or is_startup_noise(line):
            continue
        if re.match(r"(DEBUG|INFO|WARNING):[\w.]+:", line):
            continue
        keep.append(line)
    return keep


def _mapping(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    return str(path)


CASES = {
    # bad log_dirs in a --config JSON (failed inside _info() with a traceback before)
    "rollouts_bad_log_dirs": lambda t: ("rldg_rollouts", ["--config", json.dumps({"name": "r", "log_dirs": [str(t / "nowhere")]})],
                                        [str(t / "nowhere"), "does not exist"]),
    # a typo'd key in the --config JSON
    "rollouts_typo_key": lambda t: ("rldg_rollouts", ["--config", json.dumps({"name": "r", "log_dir": ["x"]})],
                                    ["unknown key 'log_dir'", "log_dirs"]),
    # a typo'd --config recipe name, and a recipe file with an unknown key
    "mix_typo_config": lambda t: ("rldg_mix", ["--config", "dumy"], ["no config 'dumy'", "docs/RECIPES.md"]),
    "mix_bad_recipe": lambda t: ("rldg_mix", ["--config", _mapping(t, "name: m\nseeds: 1\nsources: {}\n")],
                                 ["unknown key 'seeds'"]),
    # a mapping with an unknown key (lerobot) and a value the options refuse (hil_serl)
    "lerobot_bad_mapping": lambda t: ("lerobot_import", ["--manual_dir", str(BUILDERS / "lerobot_import/dummy_data"),
                                                         "--config", json.dumps({"name": "m", "mapping": _mapping(t, "stat: x\n")})],
                                      [str(t / "mapping.yaml"), "'stat'"]),
    "hil_serl_bad_option": lambda t: ("hil_serl", ["--manual_dir", str(BUILDERS / "hil_serl/dummy_data"),
                                                   "--config", json.dumps({"name": "h", "source": "robot"})],
                                      ["source must be 'rl' or 'human'", "'robot'"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_user_error_is_one_line_under_tfds_build(case, tmp_path):
    builder, args, words = CASES[case](tmp_path)
    data_dir = tmp_path / "data"
    res = tfds_build(builder, "--data_dir", str(data_dir), *args)
    lines = error_lines(res)
    assert res.returncode != 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not list(data_dir.rglob("*.tfrecord*"))
