"""A relabel that removes steps says so (issue 33: 857 -> 583 steps after `trim_pauses`, and
neither the output nor the card said how many were removed); `trim_pauses` is documented."""

from __future__ import annotations

import json
from pathlib import Path

from rldg_data.cli import main
from rldg_data.contract import spec
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode

REPO = Path(__file__).resolve().parents[3]


def test_trim_pauses_removed_steps_on_the_output_and_the_card(tmp_path, capsys):
    episodes = []
    for i in range(3):
        ep = make_episode(f"h-{i}", length=10, seed=i, source="human")
        ep.steps[spec.ACTION][3:6, :3] = 0.0  # a three-step pause of the hand
        episodes.append(ep)
    write_dataset(episodes, tmp_path / "data", "human_demos")
    recipe = tmp_path / "trimmed.yaml"
    recipe.write_text("name: trimmed\nseed: 0\nval_fraction: 0.0\nrelabels: {trim_pauses: true}\n"
                      f"sources:\n  human: {{path: {tmp_path / 'data' / 'human_demos'}}}\n")
    assert main(["mix", str(recipe), "--data-dir", str(tmp_path / "mixes")]) == 0
    out = capsys.readouterr().out
    assert "relabels removed 9 steps (30 -> 21)" in out, out
    folder = tmp_path / "mixes" / "trimmed" / "1.0.0"
    info = json.loads((folder / "rldg_info.json").read_text())
    assert info["sources"]["human"]["steps_removed"] == 9 and info["num_steps"] == 21
    card = (folder / "README.md").read_text()
    assert "steps removed by relabels" in card
    row = next(line for line in card.splitlines() if line.startswith("| human |"))
    assert "| 21 | 9 |" in row


def test_recipes_doc_lists_every_relabel_key():
    import dataclasses

    from rldg_data.mix.recipe import RelabelConfig

    doc = (REPO / "docs" / "RECIPES.md").read_text()
    for field in dataclasses.fields(RelabelConfig):
        assert f"`{field.name}" in doc, f"docs/RECIPES.md does not document relabels.{field.name}"
