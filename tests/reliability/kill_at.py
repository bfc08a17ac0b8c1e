"""`python -m tests.reliability.kill_at POINT ARGS...`: runs `tfds ARGS...` (the real command line)
and SIGKILLs itself at a named point of `rldg_data.io.tfds_build`'s rebuild that no poll from
outside can hit reliably, because it lasts microseconds:

  before_swap   the rebuilt dataset is complete aside, the old one not yet replaced
  after_swap    the folders are exchanged, the old one (now aside) not yet deleted
  mid_cleanup   half of the old dataset's files deleted from the aside folder

The kill is a real SIGKILL of the whole process (no cleanup, no `finally`).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str) -> None:
    from rldg_data.io import tfds_build

    real_swap = tfds_build.swap_in

    def before_swap(new, final):
        _die()

    def after_swap(new, final):
        real_swap(new, final)
        _die()

    def mid_cleanup(new, final):
        real_swap(new, final)
        files = sorted(p for p in Path(new).rglob("*") if p.is_file())
        for f in files[: len(files) // 2 + 1]:
            f.unlink()
        _die()

    tfds_build.swap_in = {"before_swap": before_swap, "after_swap": after_swap,
                          "mid_cleanup": mid_cleanup}[point]


def main(argv: list[str]) -> None:
    point, *args = argv
    install(point)
    from tensorflow_datasets.scripts.cli.main import launch_cli

    sys.argv = ["tfds", *args]
    launch_cli()


if __name__ == "__main__":
    main(sys.argv[1:])
