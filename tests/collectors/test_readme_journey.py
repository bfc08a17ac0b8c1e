"""README's journey, as a new user runs it (issue 33): the RL collect uses the specialist
checkpoint (steps labelled `rl`, not `scripted`), and `rldg mix` gets its required --data-dir."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _journey() -> list[str]:
    """The commands of README's "From nothing to a shared mix" block, continuation lines joined."""
    text = (REPO / "README.md").read_text()
    block = text.split("## From nothing to a shared mix", 1)[1].split("```", 2)[1]
    return [line.split("#")[0].strip() for line in block.replace("\\\n", " ").splitlines()
            if line.strip().startswith(("rldg ", "tfds "))]


def test_every_rldg_mix_in_readme_gives_data_dir():
    text = (REPO / "README.md").read_text()
    mixes = re.findall(r"rldg mix [^\n`|]*", text)
    assert mixes and all("--data-dir" in m or "--help" in m for m in mixes), mixes


def test_readme_rl_collect_records_rl_labelled_steps(tmp_path):
    rl = next(c for c in _journey() if c.startswith("rldg collect") and "--out logs/rl" in c)
    args = shlex.split(rl)[1:]
    policy = args[args.index("--policy") + 1]
    assert (REPO / policy / "policy.json").is_file(), f"README's RL policy {policy} is not a checkpoint"
    args[args.index("--episodes") + 1] = "1"
    args[args.index("--out") + 1] = str(tmp_path / "logs" / "rl")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    res = subprocess.run([sys.executable, "-m", "rldg_data.cli", *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    said = re.search(r"steps by source (\S+)", res.stdout)
    assert said and said.group(1).startswith("rl=") and "scripted" not in said.group(1), res.stdout
    # the simulator's control rate is recorded for the build (metadata.json fps) and the exports
    assert json.loads((tmp_path / "logs" / "rl" / "collect.json").read_text())["rate_hz"] == 80


def test_rldg_help_journey_matches_readme(capsys):
    from rldg_data.cli import build_parser

    text = build_parser().format_help()
    assert "--policy trainers/demo/specialists/insertion-vga" in text and "--policy expert" not in text
    assert "rldg mix my_mix.yaml --data-dir data" in text
