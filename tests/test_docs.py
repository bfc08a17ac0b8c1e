"""What the documentation and `--help` point a new user to exists in the project (issue 33)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [REPO / n for n in names if n.endswith((".py", ".md", ".txt", ".ipynb", ".yaml", ".html"))]


def test_no_file_cites_a_document_the_project_does_not_have():
    cited = []
    for path in _tracked_text_files():
        if not path.is_file():
            continue
        for name in set(re.findall(r"\b([A-Z][A-Z_]+\.md)\b", path.read_text(errors="replace"))):
            if not (REPO / name).is_file() and not (REPO / "docs" / name).is_file() and not (path.parent / name).is_file():
                cited.append(f"{path.relative_to(REPO)} cites {name}")
    assert not cited, cited


def test_validate_help_cites_no_missing_document(capsys):
    from rldg_data.cli import main

    try:
        main(["validate", "--help"])
    except SystemExit:
        pass
    assert "DESIGN" + ".md" not in capsys.readouterr().out  # spelled so this file cites nothing
