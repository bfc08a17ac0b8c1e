"""The same count is the same number in every tool (issue 22 item 8, issue 15's statistics test).

Written as a user's commands: `rldg collect` (toy environment) -> `tfds build` -> `rldg validate`,
`rldg stats`, `rldg show`, `rldg report`, and the training loader. Steps (T per episode, the final
observation included) and transitions (steps with an action, T - 1) are named as such everywhere,
the median length is numpy's everywhere, and the loader, `rldg stats` and the report show
identical statistics, on one dataset and on a pair.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOY = ["--env-factory", "tests.collectors.toy_env:make_env",
       "--demonstrator-factory", "tests.collectors.toy_env:make_policy"]


def _run(*args, cwd=REPO) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", COLUMNS="200")
    res = subprocess.run([*args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout


def _rldg(*args) -> str:
    return _run(str(BIN / "rldg"), *args)


def _json_prefix(text: str) -> dict:
    return json.JSONDecoder().raw_decode(text.lstrip())[0]


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """A toy collection built into a dataset with `tfds build` ("a": path and collect's output),
    and a second dataset written by the library ("b", with train and val splits)."""
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episodes

    root = tmp_path_factory.mktemp("agree")
    logs, data = root / "logs_a", root / "data_a"
    printed = _rldg("collect", "--task", "toy", "--variant", "a", "--policy", "human", "--episodes", "4",
                    "--image-size", "16", "--out", str(logs), *TOY)
    _run(str(BIN / "tfds"), "build", "builders/rldg_rollouts", "--data_dir", str(data), "--manual_dir", str(logs))
    eps = make_episodes(7, seed=5, image_size=16)
    b = write_dataset({"train": eps[:5], "val": eps[5:]}, root / "data_b", "other")
    return root, {"a": (data / "rldg_rollouts" / "default" / "1.0.0", printed), "b": (b, "")}


def test_collect_validate_show_stats_report_and_loader_agree(collected):
    from rldg_data.loaders import LoaderConfig, RLDSLoader

    root, out = collected
    path, printed = out["a"]
    steps, transitions = map(int, re.search(r"steps (\d+) \((\d+) transitions\)", printed).groups())
    by_source = dict(re.findall(r"(\w+)=(\d+)", printed.split("steps by source")[1].split("success")[0]))

    summary = json.loads(_rldg("validate", str(path), "--json"))["summary"]
    assert (summary["steps"], summary["transitions"]) == (steps, transitions)
    assert steps == transitions + summary["episodes"]
    assert summary["steps_by_source"] == {k: int(v) for k, v in by_source.items()}

    stats = _json_prefix(_rldg("stats", str(path), "--print"))
    assert (stats["num_steps"], stats["num_transitions"]) == (steps, transitions)

    report = root / "report_a"
    _rldg("report", str(path), "--out", str(report), "--video", "none")
    assert json.loads((report / "statistics.json").read_text()) == stats
    report_summary = json.loads((report / "summary.json").read_text())
    assert (report_summary["steps"], report_summary["transitions"]) == (steps, transitions)

    loader = RLDSLoader(path, LoaderConfig(batch_size=8, repeat=False))
    assert loader.statistics == stats

    # median length: `rldg show`'s per-source table and the report's Sources table show numpy's median
    from rldg_data.io.reader import read_episodes

    lengths = {}
    for ep in read_episodes(path, decode_images=False):
        lengths.setdefault(str(ep.sources[0]), []).append(len(ep))
    shown = _rldg("show", str(path), "--no-stats")
    page = (report / "index.html").read_text()
    for source, values in lengths.items():
        median = float(np.median(values))
        text = f"{median:.0f}" if median.is_integer() else f"{median:.1f}"
        row = next(line for line in shown.splitlines() if f" {source} " in line and "%" in line)
        cells = [c.strip() for c in row.split("│")][1:-1]  # source, episodes, steps, labelled, success, median
        assert cells[5] == text, (row, text)
        found = re.search(rf"{source}</td><td>(\d+)</td><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td>", page)
        assert found and found.group(3) == text, (found and found.groups(), text)


def test_statistics_of_a_pair_agree_between_loader_stats_and_reports(collected, tmp_path):
    from rldg_data.loaders import LoaderConfig, RLDSLoader
    from rldg_data.stats.accumulators import StatsAccumulator
    from viz.scan import collect_dataset_view

    _, out = collected
    a, b = out["a"][0], out["b"][0]
    stats = _json_prefix(_rldg("stats", str(a), str(b), "--print"))
    loader = RLDSLoader([a, b], LoaderConfig(batch_size=8, repeat=False))
    assert loader.statistics == stats
    merged = StatsAccumulator()
    for path in (a, b):
        merged.merge(collect_dataset_view(path).statistics_accumulator)
    assert merged.to_dict() == stats
    single = [json.loads(json.dumps(RLDSLoader(p, LoaderConfig(repeat=False)).statistics)) for p in (a, b)]
    assert stats["num_transitions"] == sum(s["num_transitions"] for s in single)
    assert stats["num_trajectories"] == sum(s["num_trajectories"] for s in single)
    written = tmp_path / "pair.json"
    _rldg("stats", str(a), str(b), "--out", str(written))
    assert json.loads(written.read_text()) == stats
    assert not (a / "dataset_statistics.json").exists() or json.loads((a / "dataset_statistics.json").read_text()) == single[0]
