"""The `rldg` command: one entry point, subcommands registered by each package.

Every package, the core included, declares its subcommands in the `rldg.commands` entry-point
group of setup.py (as pytest finds plugins), so this module imports none of the other packages;
`validate` is also registered directly so that the core works from a source tree. A registration function takes the argparse subparsers object,
adds one parser and sets `func` (a callable of the parsed args returning an exit status).
Registration must stay cheap: heavy imports happen inside `func`.

Errors: an `RldgError` (a user error: bad data, bad option, missing file) is printed as one line
on stderr and exits with status 2; with `-v` its traceback is shown too. Any other exception is a
bug and keeps its Python traceback.

Noise: TensorFlow's C++ start-up lines (the oneDNN notice, the CPU-feature notice, absl's "before
InitializeLog" warning) ignore `TF_CPP_MIN_LOG_LEVEL` and would hide the one line that matters, so
`main` filters them out of stderr while TensorFlow is first imported (`quiet_tensorflow_startup`).
Only the command line does this: a library user importing `rldg_data` keeps TensorFlow's defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import tempfile
from importlib import metadata
from typing import Callable, Optional, Sequence

from rldg_data import __version__
from rldg_data.errors import RldgError

ENTRY_POINT_GROUP = "rldg.commands"

DESCRIPTION = """\
rldg: build, check, mix, explore and train on RLDS datasets for RLDG
(RL specialists distilled into a generalist policy).

From nothing to a custom mix, built with `tfds build` and exported (every command, in order):
  rldg collect --list                                   # tasks, variants, policies
  rldg collect --task insertion --variant vga --policy trainers/demo/specialists/insertion-vga \
      --episodes 20 --out logs/rl                     # the RL specialist: steps labelled rl
  rldg collect --task insertion --variant vga --policy human --episodes 20 --out logs/human
  tfds build builders/rldg_rollouts --manual_dir logs/rl --data_dir data/rl
  tfds build builders/rldg_rollouts --manual_dir logs/human --data_dir data/human
  # my_mix.yaml (every key: docs/RECIPES.md; paths are relative to the recipe file):
  #   name: my_mix
  #   seed: 0
  #   filters: {success_only: true}
  #   sources: {rl: {path: data/rl/rldg_rollouts/default/1.0.0},
  #             human: {path: data/human/rldg_rollouts/default/1.0.0}}
  tfds build builders/rldg_mix --config my_mix.yaml --data_dir data   # or: rldg mix my_mix.yaml --data-dir data
  rldg validate data/rldg_mix/my_mix/1.0.0 ; rldg show ... ; rldg report ... --out report/
  rldg view data/rldg_mix/my_mix/1.0.0 data/rl/...     # browse and scrub episodes (127.0.0.1:8765)
  rldg finetune octo data/rldg_mix/my_mix/1.0.0 --out exports/octo       # then exports/octo/README.md
  rldg finetune openvla data/rldg_mix/my_mix/1.0.0 --out exports/openvla # then its README.md
  rldg export lerobot data/rldg_mix/my_mix/1.0.0 --out exports/lerobot
  rldg generalist train ...                            # or our own small generalist
Run `rldg COMMAND --help` for each command's options."""


def _core_commands() -> list[Callable]:
    from rldg_data.validation import cli as commands

    return [commands.register_validate, commands.register_ls]


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


# Start-up lines of TensorFlow's C++ runtime: absl's pre-init warning, and INFO/WARNING records in
# absl's format ("I0000 00:00:1796069238.914834   11311 port.cc:153] ...") or TF's older one
# ("2024-01-11 05:40:05.061907: I tensorflow/...cc:182] ..."), plus the CPU-feature notice's second line.
_STARTUP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.]+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:[\d.]+: [IW] \S+:\d+\] "
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags)")


# Warnings libraries log on import about optional parts the toolkit does not use (Beam's GCP I/O).
_STARTUP_RECORDS = ("apitools not found, and bigquery client libraries are not available",)


def _drop_startup_records(record: logging.LogRecord) -> bool:
    return not any(str(record.msg).startswith(text) for text in _STARTUP_RECORDS)


def is_startup_noise(line: str) -> bool:
    """Whether one stderr line is a TensorFlow/absl start-up notice (never an error record)."""
    return bool(_STARTUP_NOISE.match(line))


@contextlib.contextmanager
def _filtered_stderr():
    """Sends file descriptor 2 to a temp file for the block, then forwards all but start-up noise.

    Works at the descriptor level because the C++ runtime writes there, not to `sys.stderr`.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [line for line in tmp.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not is_startup_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietImport:
    """A meta-path finder that runs the first import of `module` under `_filtered_stderr`.

    It finds the module's spec with the other finders and wraps only that loader's `exec_module`,
    so the module is imported exactly once, by the normal machinery, and nothing else changes.
    """

    def __init__(self, module: str) -> None:
        self.module = module

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.module:
            return None
        import importlib.util

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        inner = spec.loader.exec_module

        def exec_module(module):
            with _filtered_stderr():
                inner(module)

        spec.loader.exec_module = exec_module
        return spec


def quiet_tensorflow_startup() -> None:
    """Silences TensorFlow's start-up lines in this process (the `rldg` command calls it first).

    Sets `TF_CPP_MIN_LOG_LEVEL=2` unless the user set it, and filters the C++ notices that ignore
    it out of stderr while `tensorflow` is first imported; a no-op once TensorFlow is imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietImport("tensorflow"))


def main(argv: Optional[Sequence[str]] = None) -> int:
    quiet_tensorflow_startup()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("absl").setLevel(logging.WARNING)  # TFDS logs INFO lines through absl
        for handler in logging.getLogger().handlers:
            handler.addFilter(_drop_startup_records)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RldgError as exc:
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"rldg {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rldg {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a full disk where no step named its path: still one line
        from rldg_data.io.space import space_reason

        reason = space_reason(exc)
        if reason is None:
            raise
        where = getattr(exc, "filename", None) or "a file"
        print(f"rldg {args.command}: error: {where}: {reason} (out of space); free some space and run "
              "the command again", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
