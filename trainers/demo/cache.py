"""Resumable, crash-safe stage outputs: each stage's folder is keyed by a hash of its inputs.

A stage writes into a hidden temporary folder and is renamed into `<root>/<name>-<key>` only when
it finished; a `stage.json` inside records the inputs. A rerun with the same inputs finds the
folder and skips the work; Ctrl-C or a crash leaves only a temporary folder, removed next time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

log = logging.getLogger(__name__)

STAGE_FILE = "stage.json"


def input_key(inputs: Mapping[str, Any]) -> str:
    """A short stable hash of JSON-serializable inputs (upstream stage folders count by name)."""
    text = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclasses.dataclass
class StageCache:
    """The cache folder of one demo run; `run()` executes or reuses one stage."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(".tmp-*"):  # left by an interrupted run
            shutil.rmtree(stale, ignore_errors=True)

    def path(self, name: str, inputs: Mapping[str, Any]) -> Path:
        return self.root / f"{name}-{input_key(inputs)}"

    def done(self, name: str, inputs: Mapping[str, Any]) -> bool:
        return (self.path(name, inputs) / STAGE_FILE).is_file()

    def run(self, name: str, inputs: Mapping[str, Any], work: Callable[[Path], Any]) -> Path:
        """Returns the stage's folder, running `work(tmp_folder)` first unless it is cached."""
        final = self.path(name, inputs)
        if (final / STAGE_FILE).is_file():
            log.info("stage %s: cached (%s)", name, final.name)
            return final
        tmp = self.root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        start = time.time()
        try:
            result = work(tmp)
            record = {"name": name, "inputs": inputs, "seconds": round(time.time() - start, 1),
                      "result": result if _jsonable(result) else None}
            (tmp / STAGE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True, default=str))
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final

    def record(self, name: str, inputs: Mapping[str, Any]) -> dict:
        return json.loads((self.path(name, inputs) / STAGE_FILE).read_text())


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False
