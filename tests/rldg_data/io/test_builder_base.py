"""rldg_data.io.builder_base: configs derived from options dataclasses, unknown keys refused,
inputs records that name what changed."""

from __future__ import annotations

import dataclasses
from typing import Optional

import pytest

from rldg_data.errors import ConfigError, DatasetError
from rldg_data.io.builder_base import builder_config, dataset_digest_of
from rldg_data.io.tfds_build import INPUTS_FILE, changed_parts, check_same_inputs


@dataclasses.dataclass(frozen=True)
class _Options:
    """speed: how fast; names: which ones."""

    speed: float = 1.5
    names: Optional[tuple[str, ...]] = None


def test_config_has_the_options_fields_and_builds_them_back():
    Config = builder_config("ToyConfig", "toy", _Options, extra=[("where", str, dataclasses.field(default="here"))])
    fields = {f.name: f for f in dataclasses.fields(Config)}
    assert {"name", "speed", "names", "where"} <= set(fields)
    assert fields["speed"].default == 1.5 and fields["names"].default is None
    config = Config(name="x", speed=3.0, names=["a", "b"])  # JSON gives lists
    assert config.options() == _Options(speed=3.0, names=("a", "b"))


def test_config_refuses_an_unknown_key_naming_it():
    Config = builder_config("ToyConfig", "toy", _Options)
    with pytest.raises(ConfigError, match=r"toy --config: unknown key 'sped' \(allowed: .*speed"):
        Config(name="x", sped=2)
    with pytest.raises(ConfigError, match="toy --config"):
        Config(speed=2)  # no name


def test_a_changed_input_is_refused_naming_the_part(tmp_path):
    (tmp_path / INPUTS_FILE).write_text('{"fingerprint": "aaa", "description": "recipe m", '
                                        '"parts": {"recipe hash": "1111", "source rl digest": "22"}}')
    check_same_inputs(tmp_path, {"fingerprint": "aaa", "description": "recipe m"})
    with pytest.raises(DatasetError, match=r"changed: recipe hash 1111 -> 3333\. Rebuild"):
        check_same_inputs(tmp_path, {"fingerprint": "bbb", "description": "recipe m",
                                     "parts": {"recipe hash": "3333", "source rl digest": "22"}})
    assert changed_parts({"a": 1}, {"b": 2}) == ["a 1 -> (none)", "b (none) -> 2"]


def test_dataset_digest_prefers_the_recorded_digest(tmp_path):
    (tmp_path / "dataset_info.json").write_text("{}")
    (tmp_path / "x.tfrecord-00000-of-00001").write_bytes(b"12")
    plain = dataset_digest_of(tmp_path)
    (tmp_path / "x.tfrecord-00000-of-00001").write_bytes(b"123")
    assert dataset_digest_of(tmp_path) != plain
    (tmp_path / "rldg_info.json").write_text('{"digest": "abc"}')
    assert dataset_digest_of(tmp_path) == "abc"
