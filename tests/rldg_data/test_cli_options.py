"""Options made from config dataclasses: the command's defaults and help are the dataclass's."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Optional

import pytest

from rldg_data.cli_options import add_dataclass_options, docstring_help, from_args


@dataclasses.dataclass(frozen=True)
class Toy:
    """A toy config.

    rate: how fast, in
      steps per second.
    sizes, other: two fields, one entry.
    """

    name: str
    rate: float = 0.5
    sizes: tuple[int, ...] = (3, 4)
    other: Optional[int] = None
    flag: bool = True
    count: int = dataclasses.field(default=7, metadata={"help": "from metadata"})


def _parser(**kwargs):
    parser = argparse.ArgumentParser(prog="toy")
    parser.add_argument("--name", required=True)
    add_dataclass_options(parser, Toy, **kwargs)
    return parser


def test_docstring_entries_with_continuations_and_shared_entries():
    found = docstring_help(Toy)
    assert found["rate"] == "how fast, in steps per second."
    assert found["sizes"] == found["other"] == "two fields, one entry."


def test_defaults_types_and_round_trip():
    args = _parser().parse_args(["--name", "a"])
    assert from_args(Toy, args) == Toy(name="a")
    args = _parser().parse_args(["--name", "a", "--rate", "2", "--sizes", "5", "6", "7", "--other", "1",
                                 "--no-flag", "--count", "9"])
    assert from_args(Toy, args) == Toy(name="a", rate=2.0, sizes=(5, 6, 7), other=1, flag=False, count=9)
    with pytest.raises(SystemExit):
        _parser().parse_args(["--name", "a", "--count", "x"])


def test_help_and_names_and_choices(capsys):
    parser = _parser(names={"count": "--n"}, choices={"other": (1, 2)})
    text = parser.format_help()
    assert "how fast, in steps per second. (default: 0.5)" in " ".join(text.split())
    assert "from metadata (default: 7)" in " ".join(text.split())
    assert "--n COUNT" in text and "--flag, --no-flag" in text
    with pytest.raises(SystemExit):
        parser.parse_args(["--name", "a", "--other", "3"])


def test_specialist_train_defaults_are_the_dataclasses():
    """`register_specialist` copies no default: unset options give TrainConfig's and SACConfig's."""
    from rldg_data.cli import build_parser
    from trainers.specialist.cli import config_from_args
    from trainers.specialist.config import TrainConfig

    args = build_parser().parse_args(["specialist", "train", "--task", "insertion", "--variant", "vga",
                                      "--out", "ck"])
    assert config_from_args(args) == TrainConfig(task="insertion", variant="vga", out="ck")
    args = build_parser().parse_args(["specialist", "train", "--task", "insertion", "--variant", "vga",
                                      "--out", "ck", "--utd", "3", "--hidden", "32", "32", "--no-normalize-q",
                                      "--start-stage", "bottleneck", "--bc-on-idle", "--obs-features", "raw"])
    config = config_from_args(args)
    assert config.sac.utd_ratio == 3 and config.sac.hidden == (32, 32) and not config.sac.normalize_q
    assert config.start_stage == -1 and not config.bc_skip_idle and not config.sac.offset_obs


def test_specialist_help_names_the_registry_tasks():
    from rldg_data.cli import build_parser
    from robot_io.sim.registry import TASKS

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices["specialist"]  # noqa: SLF001 - the parser tree
    train = sub._subparsers._group_actions[0].choices["train"]  # noqa: SLF001
    assert ", ".join(TASKS) in train.format_help()
