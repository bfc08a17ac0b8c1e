"""`rldg collect` as a user types it: a log folder never describes episodes it does not hold, and
mistakes are one-line errors before any worker starts (issue 22, items 1 and 6)."""

from __future__ import annotations

import json

import pytest

from collectors.logs import episode_logs, iter_log_episodes
from rldg_data.cli import main

TOY = ["--env-factory", "tests.collectors.toy_env:make_env",
       "--demonstrator-factory", "tests.collectors.toy_env:make_policy"]


def _collect(out, *args, episodes=2, variant="a", policy="human"):
    return main(["collect", "--task", "toy", "--variant", variant, "--policy", policy,
                 "--episodes", str(episodes), "--out", str(out), "--image-size", "16", *TOY, *args])


def test_other_configuration_into_the_same_folder_is_refused_naming_the_keys(tmp_path, capsys):
    out = tmp_path / "logs"
    assert _collect(out) == 0
    manifest = (out / "collect.json").read_text()
    capsys.readouterr()
    assert _collect(out, variant="b", policy="expert", episodes=4) == 2
    err = capsys.readouterr().err
    assert "another configuration" in err and "variant: 'a' there, 'b' now" in err
    assert "policy: 'human' there, 'expert' now" in err and "Traceback" not in err
    assert (out / "collect.json").read_text() == manifest  # the folder still describes its episodes
    assert len(episode_logs([out])) == 2
    assert _collect(out, "--seed", "9") == 2 and "seed: 0 there, 9 now" in capsys.readouterr().err


def test_same_configuration_tops_up_and_append_keeps_each_configuration(tmp_path, capsys):
    out = tmp_path / "logs"
    assert _collect(out) == 0
    assert _collect(out, episodes=3) == 0  # same configuration, more episodes: one more
    assert "recorded 1 episodes (2 already there)" in capsys.readouterr().out
    assert _collect(out, "--append", variant="b") == 0
    runs = sorted(out.glob("run-*"))
    assert len(runs) == 1 and json.loads((runs[0] / "collect.json").read_text())["variant"] == "b"
    assert json.loads((out / "collect.json").read_text())["variant"] == "a"
    variants = sorted(e.metadata.variant for e in iter_log_episodes([out]))
    assert variants == ["a", "a", "a", "b", "b"]
    capsys.readouterr()
    assert _collect(out, "--append", variant="b") == 0  # the same appending command resumes
    assert "recorded 0 episodes (2 already there)" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["--task", "insertion", "--variant", "vga", "--policy", "expert", "--episodes", "0"],
     "--episodes must be at least 1, got 0"),
    (["--task", "insertion", "--variant", "vgaa", "--policy", "expert", "--episodes", "2"],
     "unknown variant 'vgaa' of task 'insertion'; known: vga"),
    (["--task", "insrtion", "--variant", "vga", "--policy", "expert", "--episodes", "2"],
     "unknown task 'insrtion'; known tasks: insertion"),
    (["--task", "insertion", "--variant", "vga", "--policy", "exprt", "--episodes", "2"],
     "--policy 'exprt' is neither expert, human"),
    (["--task", "insertion", "--variant", "vga", "--policy", "no_such_module:make", "--episodes", "2"],
     "cannot import factory 'no_such_module:make'"),
    (["--task", "insertion", "--variant", "vga", "--policy", "expert", "--episodes", "2",
      "--workers", "0"], "--workers must be at least 1"),
    (["--task", "insertion"], "missing --variant, --policy, --episodes"),
])
def test_mistakes_are_one_line_errors_before_any_worker_starts(tmp_path, capsys, args, words):
    out = tmp_path / "logs"
    rc = main(["collect", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and words in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "run the same command again" not in err and "resume" not in err
    assert not out.exists()  # nothing started


def test_list_shows_tasks_variants_and_policies(capsys):
    assert main(["collect", "--list"]) == 0
    out = capsys.readouterr().out
    for words in ("insertion", "vga", "unseen", "type_c", "pick_place", "assembly", "expert", "human",
                  "CHECKPOINT_DIR", "module:function"):
        assert words in out, out


def test_resumed_collect_reports_the_whole_folder_success(tmp_path, capsys):
    """Issue 33: a resumed collect reported only the new episodes' success."""
    out = tmp_path / "logs"
    assert _collect(out) == 0
    capsys.readouterr()
    assert _collect(out, episodes=3) == 0
    text = capsys.readouterr().out
    outcomes = [json.loads(p.read_text()) for p in out.glob("worker-*/ep-*/outcome.json")]
    wins = sum(bool(o["success"]) for o in outcomes)
    assert len(outcomes) == 3 and "(this run)" in text
    assert f"folder: 3 episodes, success {wins / 3:.1%} ({wins}/3)" in text, text
