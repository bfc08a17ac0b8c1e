"""The `rldg` command: one entry point, subcommands registered by each package.

Every package, the core included, declares its subcommands in the `rldg.commands` entry-point
group of setup.py (as pytest finds plugins), so this module imports none of the other packages;
`validate` is also registered directly so that the core works from a source tree. A registration function takes the argparse subparsers object,
adds one parser and sets `func` (a callable of the parsed args returning an exit status).
Registration must stay cheap: heavy imports happen inside `func`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import metadata
from typing import Callable, Optional, Sequence

from rldg_data import __version__
from rldg_data.errors import RldgError

ENTRY_POINT_GROUP = "rldg.commands"

DESCRIPTION = """\
rldg: build, check, mix, explore and train on RLDS datasets for RLDG
(RL specialists distilled into a generalist policy).

Typical flow: `rldg collect` rollouts and demos -> `tfds build builders/rldg_rollouts`
-> `rldg mix RECIPE.yaml` -> `rldg validate` / `rldg show` / `rldg report`
-> `rldg generalist train` or `rldg finetune octo|openvla`.
Run `rldg COMMAND --help` for each command's options."""


def _core_commands() -> list[Callable]:
    from rldg_data.contract import cli as commands

    return [commands.register_validate]


def _plugin_commands() -> list[tuple[str, Callable]]:
    found = []
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            found.append((ep.name, ep.load()))
        except ModuleNotFoundError as exc:
            if exc.name != ep.module:  # the command exists but a dependency of it is missing
                logging.getLogger(__name__).warning("rldg %s unavailable: %s", ep.name, exc)
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            logging.getLogger(__name__).warning("rldg %s unavailable (%s): %r", ep.name, ep.value, exc)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rldg", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rldg-data {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered = set()
    for register in _core_commands():
        register(sub)
    registered.update(sub.choices)
    for name, register in _plugin_commands():
        if name not in registered:
            register(sub)
            registered.update(sub.choices)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RldgError as exc:
        print(f"rldg {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rldg {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
