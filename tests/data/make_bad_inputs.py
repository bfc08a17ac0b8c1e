"""Generates the corpus of bad inputs that rldg-data must refuse with a clear error.

Every case is made from valid synthetic episodes (tests/factories.py) by one deliberate defect, so
the corpus is reproducible and never a hand-edited binary. Tests call the `make_*` functions into
`tmp_path`; run this file to (re)write the corpus under tests/data/bad/ for manual checks:

    .venv/bin/python tests/data/make_bad_inputs.py [OUT_DIR]

Each dataset case returns the dataset's version folder; `EXPECTED[case]` says what the error must
name (field, episode id or record index, step) besides the shard file.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path
from typing import Callable, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rldg_data.contract import spec  # noqa: E402
from rldg_data.contract.episode import Episode  # noqa: E402
from rldg_data.io.codec import encode_episode  # noqa: E402
from rldg_data.io.writer import DatasetWriter  # noqa: E402
from tests.factories import make_episode, make_episodes  # noqa: E402

NAME = "bad"


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a user must read in the error of one bad input."""

    field: Optional[str]
    episode: str  # an episode id, or "#<index> in file" for a record that cannot be parsed
    step: Optional[int] = None
    words: str = ""  # a phrase of the reason


def write_unchecked(out_dir: Path, items, dataset_spec: Optional[spec.DatasetSpec] = None) -> Path:
    """A dataset written without validation, as a buggy third-party writer would write it.

    `items` are Episodes or (episode_id, serialized record, num_steps) tuples.
    """
    episodes = [e for e in items if isinstance(e, Episode)]
    writer = DatasetWriter(out_dir, NAME, dataset_spec or (episodes[0].spec() if episodes
                                                           else make_episode().spec()),
                           overwrite=True)
    for item in items:
        eid, record, n = item if isinstance(item, tuple) else (item.episode_id, encode_episode(item), len(item))
        writer.add_serialized(eid, record, n)
    return writer.commit()


def _example(episode: Episode):
    from tensorflow.core.example import example_pb2

    return example_pb2.Example.FromString(encode_episode(episode))


def _good(out_dir: Path) -> Path:
    return write_unchecked(out_dir, make_episodes(4, seed=7))


def _damage_shard(path: Path, how: str) -> Path:
    (shard,) = sorted(path.glob("*.tfrecord-*"))
    data = bytearray(shard.read_bytes())
    if how == "truncate":
        data = data[: len(data) * 2 // 3]
    else:
        data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    return path


def make_truncated_shard(out_dir: Path) -> Path:
    """The last third of the only shard is gone (a copy cut short, a full disk)."""
    return _damage_shard(_good(out_dir), "truncate")


def make_flipped_bytes(out_dir: Path) -> Path:
    """One byte in the middle of the shard is inverted (bit rot): the TFRecord CRC catches it."""
    return _damage_shard(_good(out_dir), "flip")


def make_wrong_image_shape(out_dir: Path) -> Path:
    """Episode `small-frames` carries 8x8 frames in a dataset that declares 16x16."""
    big = make_episode("fine-0", image_size=16)
    return write_unchecked(out_dir, [big, make_episode("small-frames", image_size=8)], big.spec())


def make_wrong_dtype(out_dir: Path) -> Path:
    """Episode `int-actions` stores its actions as integers instead of float32."""
    bad = make_episode("int-actions", seed=2)
    example = _example(bad)
    feature = example.features.feature[f"{spec.STEPS}/{spec.ACTION}"]
    values = [int(round(v)) for v in feature.float_list.value]
    feature.ClearField("float_list")
    feature.int64_list.value.extend(values)
    return write_unchecked(out_dir, [make_episode("fine-0"),
                                     ("int-actions", example.SerializeToString(), len(bad))])


def _bad_action(out_dir: Path, value: float, eid: str) -> Path:
    bad = make_episode(eid, seed=3)
    bad.steps[spec.ACTION][2, 1] = value
    return write_unchecked(out_dir, [make_episode("fine-0"), bad])


def make_nan_action(out_dir: Path) -> Path:
    """Episode `nan-action` has a NaN at step 2 of its actions."""
    return _bad_action(out_dir, np.nan, "nan-action")


def make_inf_action(out_dir: Path) -> Path:
    """Episode `inf-action` has +inf at step 2 of its actions."""
    return _bad_action(out_dir, np.inf, "inf-action")


def make_empty_episode(out_dir: Path) -> Path:
    """Episode `empty` has metadata but no steps at all."""
    base = make_episode("empty", seed=4)
    example = _example(base)
    for key, feature in example.features.feature.items():
        if key.startswith(spec.STEPS + "/"):
            getattr(feature, feature.WhichOneof("kind")).ClearField("value")
    return write_unchecked(out_dir, [make_episode("fine-0"), ("empty", example.SerializeToString(), 0)])


def make_is_first_missing(out_dir: Path) -> Path:
    """Episode `no-is-first` lacks the `steps/is_first` field entirely."""
    base = make_episode("no-is-first", seed=5)
    example = _example(base)
    del example.features.feature[f"{spec.STEPS}/{spec.IS_FIRST}"]
    return write_unchecked(out_dir, [make_episode("fine-0"),
                                     ("no-is-first", example.SerializeToString(), len(base))])


def make_is_first_false(out_dir: Path) -> Path:
    """Episode `late-start` has is_first False on step 0 (a cut episode)."""
    bad = make_episode("late-start", seed=6)
    bad.steps[spec.IS_FIRST][0] = False
    return write_unchecked(out_dir, [make_episode("fine-0"), bad])


def make_duplicate_ids(out_dir: Path) -> Path:
    """Two different episodes share the id `dup`."""
    return write_unchecked(out_dir, [make_episode("dup", seed=1), make_episode("dup", seed=2)])


A = f"{spec.STEPS}/{spec.ACTION}"
DATASET_CASES: dict[str, tuple[Callable[[Path], Path], Expected]] = {
    "truncated_shard": (make_truncated_shard, Expected(None, "in file", words="truncated")),
    "flipped_bytes": (make_flipped_bytes, Expected(None, "in file", words="damaged")),
    "wrong_image_shape": (make_wrong_image_shape,
                          Expected(f"{spec.STEPS}/{spec.IMAGE}", "small-frames", words="shape")),
    "wrong_dtype": (make_wrong_dtype, Expected(A, "int-actions", words="dtype int64")),
    "nan_action": (make_nan_action, Expected(A, "nan-action", 2, "non-finite")),
    "inf_action": (make_inf_action, Expected(A, "inf-action", 2, "non-finite")),
    "empty_episode": (make_empty_episode, Expected(spec.STEPS, "empty", words="empty episode")),
    "is_first_missing": (make_is_first_missing,
                         Expected(f"{spec.STEPS}/{spec.IS_FIRST}", "no-is-first", words="missing step field")),
    "is_first_false": (make_is_first_false,
                       Expected(f"{spec.STEPS}/{spec.IS_FIRST}", "late-start", 0, "is_first")),
    "duplicate_ids": (make_duplicate_ids,
                      Expected(f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}", "dup", words="duplicate")),
}


def bad_episodes_for_writer() -> dict[str, tuple[list[Episode], Expected]]:
    """Episode lists that `write_dataset` must refuse (the in-memory form of the cases above)."""
    small = make_episode("small-frames", image_size=8)
    wrong_dtype = make_episode("f64-actions", seed=2)
    wrong_dtype.steps[spec.ACTION] = wrong_dtype.steps[spec.ACTION].astype(np.float64)
    nan, inf, late = make_episode("nan-action", seed=3), make_episode("inf-action", seed=3), make_episode("late-start")
    nan.steps[spec.ACTION][2, 1] = np.nan
    inf.steps[spec.ACTION][2, 1] = -np.inf
    late.steps[spec.IS_FIRST][0] = False
    empty = make_episode("empty", length=1)
    empty = Episode({k: v[:0] for k, v in empty.steps.items()}, empty.metadata)
    no_first = make_episode("no-is-first")
    del no_first.steps[spec.IS_FIRST]
    fine = make_episode("fine-0")
    return {
        "wrong_image_shape": ([fine, small], DATASET_CASES["wrong_image_shape"][1]),
        "wrong_dtype": ([fine, wrong_dtype], Expected(A, "f64-actions", words="dtype float64")),
        "nan_action": ([fine, nan], DATASET_CASES["nan_action"][1]),
        "inf_action": ([fine, inf], DATASET_CASES["inf_action"][1]),
        "empty_episode": ([fine, empty], DATASET_CASES["empty_episode"][1]),
        "is_first_missing": ([fine, no_first], DATASET_CASES["is_first_missing"][1]),
        "is_first_false": ([fine, late], DATASET_CASES["is_first_false"][1]),
        "duplicate_ids": ([make_episode("dup", seed=1), make_episode("dup", seed=2)],
                          DATASET_CASES["duplicate_ids"][1]),
    }


# Recipes (issue 5's `rldg mix`, format of rldg_data/mix/recipe.py): a typo'd key, a missing source.
RECIPE_TYPO = """\
name: typo_mix
seed: 0
sources:
  rl: {{path: {source}, weigth: 1.0}}
"""
RECIPE_MISSING_SOURCE = """\
name: missing_mix
seed: 0
sources:
  rl: {{path: {source}/does_not_exist, weight: 1.0}}
"""


def make_recipes(out_dir: Path, source: Path) -> dict[str, Path]:
    """Writes the two bad recipes (pointing at the dataset `source`) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case, text in (("recipe_typo", RECIPE_TYPO), ("recipe_missing_source", RECIPE_MISSING_SOURCE)):
        paths[case] = out_dir / f"{case}.yaml"
        paths[case].write_text(text.format(source=source))
    return paths


def main(out: Optional[str] = None) -> None:
    out_dir = Path(out) if out else Path(__file__).resolve().parent / "bad"
    shutil.rmtree(out_dir, ignore_errors=True)
    for case, (make, expected) in DATASET_CASES.items():
        path = make(out_dir / case)
        print(f"{case:20s} {path.relative_to(out_dir)}  expect: {expected}")
    for case, path in make_recipes(out_dir / "recipes", out_dir / "good").items():
        print(f"{case:20s} {path.relative_to(out_dir)}")
    _good(out_dir / "good")


if __name__ == "__main__":
    main(*sys.argv[1:2])
