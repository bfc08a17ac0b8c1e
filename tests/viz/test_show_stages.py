"""`rldg show` makes a mix's hand-offs visible (issue 33): a human-grasp + RL-insertion episode
was filed under `human`, with 0 episodes under `rl` though most of its steps were RL."""

from __future__ import annotations

from rldg_data.cli import main
from rldg_data.contract import spec
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode


def test_show_has_a_per_stage_per_source_table(tmp_path, capsys):
    handoff = make_episode("handoff-0", length=10, seed=0, source="human")
    handoff.steps[spec.SOURCE][6:] = "rl"          # the RL specialist takes over at step 6
    handoff.steps[spec.STAGE][6:] = 1
    rl_only = make_episode("rl-0", length=5, seed=1, source="rl")
    write_dataset([handoff, rl_only], tmp_path, "handoffs")
    assert main(["show", str(tmp_path / "handoffs")]) == 0
    out = capsys.readouterr().out
    assert "per stage and source" in " ".join(out.split()) and "hand-offs: 1 episode(s)" in out
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if "┃ stage" in l)
    table = "\n".join(lines[header:header + 12])
    stage0 = next(l for l in table.splitlines() if l.strip("│ ").startswith("0 "))
    stage1 = next(l for l in table.splitlines() if l.strip("│ ").startswith("1 "))
    # stage 0: human 6 steps (1 episode), rl 5 steps (the RL-only episode); stage 1: rl 4 steps (1 episode)
    assert "6 (1)" in stage0 and "5 (1)" in stage0
    assert "4 (1)" in stage1 and stage1.rstrip("│ ").endswith("-")  # no human step at stage 1
