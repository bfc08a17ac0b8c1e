"""Two writers at once: of two `rldg mix` of one recipe into one --data-dir started together,
exactly one writes the dataset (valid) and the other stops saying why; of two collectors into one
folder, one records and the other is refused at once (the folder's write lock). Three rounds in
`make test`, twenty in the slow version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_episodes

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))


def together(*argvs: list[str], timeout: float = 600) -> list[subprocess.CompletedProcess]:
    """Starts every command at once and waits for all of them."""
    procs = [subprocess.Popen(a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=REPO)
             for a in argvs]
    results = []
    for argv, p in zip(argvs, procs):
        out, err = p.communicate(timeout=timeout)
        results.append(subprocess.CompletedProcess(argv, p.returncode, out, err))
    return results


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    from rldg_data.io.writer import write_dataset

    root = tmp_path_factory.mktemp("race")
    rl = write_dataset(make_episodes(10, seed=1), root, "rl")
    human = write_dataset(make_episodes(10, seed=2), root, "human")
    path = root / "race.yaml"
    path.write_text(f"name: race\nseed: 0\nsources:\n  rl: {{path: {rl}}}\n  human: {{path: {human}}}\n")
    return path


def race_mixes(recipe: Path, data: Path, rounds: int) -> None:
    from rldg_data.validation.validate import validate_dataset

    for r in range(rounds):
        folder = data / f"round{r}"
        mix = [str(BIN / "rldg"), "mix", str(recipe), "--data-dir", str(folder)]
        results = together(mix, mix)
        codes = sorted(res.returncode for res in results)
        assert codes == [0, 2], [(res.returncode, res.stderr[-1500:]) for res in results]
        loser = next(res for res in results if res.returncode == 2)
        errors = [line for line in loser.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and "already exists" in errors[0], loser.stderr[-2000:]
        version = folder / "race" / "1.0.0"
        assert validate_dataset(version).ok
        assert [p.name for p in (folder / "race").iterdir()] == ["1.0.0"]  # no temporaries left


def test_two_mixes_of_one_recipe_three_times(recipe, tmp_path):
    race_mixes(recipe, tmp_path, 3)


@pytest.mark.slow
def test_two_mixes_of_one_recipe_twenty_times(recipe, tmp_path):
    race_mixes(recipe, tmp_path, 20)


def race_collectors(out_root: Path, rounds: int) -> None:
    for r in range(rounds):
        out = out_root / f"round{r}"
        collect = [str(BIN / "rldg"), "collect", "--task", "insertion", "--variant", "vga", "--policy", "expert",
                   "--image-size", "32", "--episodes", "2", "--out", str(out)]
        results = together(collect, collect)
        codes = sorted(res.returncode for res in results)
        assert codes == [0, 2], [(res.returncode, res.stderr[-1500:]) for res in results]
        loser = next(res for res in results if res.returncode == 2)
        errors = [line for line in loser.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and "is being written by" in errors[0], loser.stderr[-2000:]
        eps = sorted(p.name for p in out.glob("worker-*/*"))
        assert eps == ["ep-000000", "ep-000001"], eps


def test_two_collectors_into_one_folder(tmp_path):
    race_collectors(tmp_path, 1)


@pytest.mark.slow
def test_two_collectors_into_one_folder_twenty_times(tmp_path):
    race_collectors(tmp_path, 20)


READER = """
import json, sys, time, pathlib
from rldg_data.errors import RldgError
from rldg_data.io.reader import read_episodes
version, stop = sys.argv[1], pathlib.Path(sys.argv[2])
seen = []
while not stop.exists():
    try:
        seen.append(sorted(e.episode_id for e in read_episodes(version, decode_images=False)))
    except RldgError as exc:
        seen.append(str(exc))
    except Exception as exc:
        seen.append(f"UNEXPECTED {type(exc).__name__}: {exc}")
print(json.dumps(seen))
"""


@pytest.mark.slow
def test_tfds_build_racing_a_reader_gives_it_old_or_new_whole(tmp_path):
    """A reader looping over a dataset while `tfds build --overwrite` swaps in another version
    reads the old episodes whole, the new ones whole, or is told the dataset was replaced."""
    import json
    import time

    logs = tmp_path / "logs"
    collect = [str(BIN / "rldg"), "collect", "--task", "insertion", "--variant", "vga", "--policy", "expert",
               "--image-size", "32", "--out", str(logs)]
    assert subprocess.run(collect + ["--episodes", "1"], env=ENV, cwd=REPO, capture_output=True).returncode == 0
    build = [str(BIN / "tfds"), "build", str(REPO / "builders/rldg_rollouts"), "--data_dir", str(tmp_path / "data"),
             "--manual_dir", str(logs)]
    first = subprocess.run(build, env=ENV, cwd=REPO, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
    version = next(p for p in (tmp_path / "data" / "rldg_rollouts").rglob("dataset_info.json")).parent
    assert subprocess.run(collect + ["--episodes", "2"], env=ENV, cwd=REPO, capture_output=True).returncode == 0
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(version), str(stop)], stdout=subprocess.PIPE,
                              text=True, env=ENV, cwd=REPO)
    rebuilt = subprocess.run(build + ["--overwrite"], env=ENV, cwd=REPO, capture_output=True, text=True)
    time.sleep(1.0)
    stop.touch()
    seen = json.loads(reader.communicate(timeout=120)[0])
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    old = [s for s in seen if isinstance(s, list) and len(s) == 1]
    new = [s for s in seen if isinstance(s, list) and len(s) == 2]
    other = [s for s in seen if not (isinstance(s, list) and len(s) in (1, 2))]
    assert old and new, seen[:3]
    assert all("was replaced while it was being read" in s for s in other), other
