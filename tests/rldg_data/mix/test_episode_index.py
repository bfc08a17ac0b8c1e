"""mix.episode_index: the finalize's per-episode rows streamed through disk, in flat memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from rldg_data.io.writer import dataset_digest
from rldg_data.mix.episode_index import index_parts, read_index


def _sidecar(path, rows):
    path.write_text(json.dumps({"split": "train", "num_bytes": 0, "episodes": rows}))
    return path


def _row(i, source="rl", success=True):
    return {"episode_id": f"ep{i:06d}", "sha256": f"{i:064x}", "source": source, "task": "insertion",
            "variant": "vga", "split_meta": "seen", "success": success, "length": 10 + i % 3}


def test_index_counts_digest_and_order_match_the_rows(tmp_path):
    rows_a = [_row(i) for i in (5, 1, 3)]
    rows_b = [_row(i, "human", success=False) for i in (4, 2)]
    parts = [("train", _sidecar(tmp_path / "a.json", rows_a)), ("val", _sidecar(tmp_path / "b.json", rows_b))]
    index = index_parts(parts, tmp_path)
    every = rows_a + rows_b
    assert index.num_episodes == 5 and index.first_duplicate is None
    assert index.digest == dataset_digest((r["episode_id"], r["sha256"]) for r in every)
    assert index.num_steps == sum(r["length"] for r in every) and index.success_rate == 3 / 5
    assert index.tallies["human"].by_split == {"val": 2} and index.tallies["rl"].selected == 3
    listed = list(read_index(tmp_path))
    assert [r["episode_id"] for r in listed] == sorted(r["episode_id"] for r in every)
    assert {r["source"] for r in listed if r["split"] == "val"} == {"human"}
    assert not (tmp_path / ".episode-runs").exists()


def test_a_repeated_episode_id_is_found_across_parts(tmp_path):
    parts = [("train", _sidecar(tmp_path / "a.json", [_row(1), _row(2)])),
             ("train", _sidecar(tmp_path / "b.json", [_row(2)]))]
    assert index_parts(parts, tmp_path).first_duplicate == "ep000002"


_MEASURE = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from rldg_data.mix.episode_index import index_parts
    root, total, per_part = Path(sys.argv[1]), int(sys.argv[2]), 10_000
    parts = []
    for p in range(total // per_part):
        rows = [{"episode_id": f"ep{p:05d}-{i:05d}", "sha256": "0" * 64, "source": "rl", "task": "t",
                 "variant": "v", "split_meta": "seen", "success": True, "length": 10}
                for i in range(per_part)]
        path = root / f"part-{p:05d}.json"
        path.write_text(json.dumps({"split": "train", "num_bytes": 0, "episodes": rows}))
        parts.append(("train", path))
        del rows
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index = index_parts(parts, root)
    assert index.num_episodes == total
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, base)
""")


def _peak_kib(tmp_path, total):
    folder = tmp_path / str(total)
    folder.mkdir()
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(folder), str(total)],
                         capture_output=True, text=True, timeout=3000, check=True).stdout.split()
    return int(out[0])


@pytest.mark.parametrize("small, large", [pytest.param(20_000, 200_000, id="20k-200k"),
                                          pytest.param(10_000, 10_000_000, id="10k-10M",
                                                       marks=pytest.mark.slow)])
def test_driver_memory_stays_flat_as_episodes_grow(tmp_path, small, large):
    """Peak RSS of indexing `large` episodes within 1.1x of `small` (metadata only, no records)."""
    assert _peak_kib(tmp_path, large) <= 1.1 * _peak_kib(tmp_path, small)
