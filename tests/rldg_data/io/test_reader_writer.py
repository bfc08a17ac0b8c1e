"""Writing episodes as a TFDS dataset and reading them back: exact, atomic, plain-TFDS loadable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rldg_data.contract import spec, tfds_json
from rldg_data.contract.episode import Episode, EpisodeMetadata, make_steps
from rldg_data.errors import ContractError, DatasetError
from rldg_data.io.reader import open_dataset, read_episodes
from rldg_data.io.writer import DatasetWriter, write_dataset
from tests.factories import make_episode, make_episodes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def assert_same_episode(a: Episode, b: Episode) -> None:
    assert a.metadata == b.metadata
    assert set(a.steps) == set(b.steps)
    for key in a.steps:
        x, y = a.steps[key], b.steps[key]
        assert x.dtype.kind == y.dtype.kind, key
        np.testing.assert_array_equal(x, y, err_msg=key)


@st.composite
def random_episodes(draw):
    n = draw(st.integers(1, 3))
    size = draw(st.sampled_from([4, 8, 13]))
    state_dim = draw(st.integers(1, 6))
    action_dim = draw(st.integers(1, 7))
    wrist = draw(st.booleans())
    privileged = draw(st.sampled_from([0, 5]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    eps = []
    for i in range(n):
        length = draw(st.integers(1, 6))
        sources = draw(st.lists(st.sampled_from(spec.SOURCES), min_size=length, max_size=length))
        steps = make_steps(
            images=rng.integers(0, 256, (length, size, size, 3), dtype=np.uint8),
            wrist_images=rng.integers(0, 256, (length, size, size, 3), dtype=np.uint8) if wrist else None,
            states=rng.normal(size=(length, state_dim)).astype(np.float32) * 1e3,
            privileged_states=rng.normal(size=(length, privileged)).astype(np.float32) if privileged else None,
            actions=rng.uniform(-1, 1, (length, action_dim)).astype(np.float32),
            rewards=rng.normal(size=length).astype(np.float32),
            stages=rng.integers(0, 4, length),
            language_instruction=draw(text),
            source=sources,
            terminal=draw(st.booleans()),
        )
        meta = EpisodeMetadata(
            episode_id=f"{draw(text)}-{i}", task=draw(text) or "t", variant=draw(text),
            split=draw(st.sampled_from(spec.SPLITS)), policy_id=draw(text),
            success=draw(st.booleans()), episode_return=float(np.float32(rng.normal())),
            length=length, seed=draw(st.integers(-2**63, 2**63 - 1)), recipe_hash=draw(text))
        eps.append(Episode(steps, meta))
    data_spec = spec.DatasetSpec(size, wrist, state_dim, action_dim, "png", privileged)
    return eps, data_spec


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_episodes())
def test_round_trip_is_exact_images_included(tmp_path_factory, case):
    eps, data_spec = case
    data_dir = tmp_path_factory.mktemp("rt")
    path = write_dataset(eps, data_dir, "rt", data_spec)
    back = read_episodes(path)
    assert len(back) == len(eps)
    for a, b in zip(eps, back):
        assert_same_episode(a, b)


def test_jpeg_is_close_and_the_default(tmp_path):
    eps = make_episodes(3, image_size=32)
    path = write_dataset(eps, tmp_path, "jp")
    assert open_dataset(path).spec.image_encoding == "jpeg"
    for a, b in zip(eps, read_episodes(path)):
        diff = np.abs(a.steps[spec.IMAGE].astype(int) - b.steps[spec.IMAGE].astype(int))
        assert diff.mean() < 3
        np.testing.assert_array_equal(a.actions, b.actions)


def test_plain_tfds_loads_it_without_rldg(tiny_dataset):
    path, eps = tiny_dataset
    script = textwrap.dedent(f"""
        import sys, json
        import tensorflow_datasets as tfds
        b = tfds.builder_from_directory({str(path)!r})
        out = []
        for ep in tfds.as_numpy(b.as_dataset(split="train")):
            steps = list(ep["steps"])
            out.append(dict(id=ep["episode_metadata"]["episode_id"].decode(), n=len(steps),
                            a=[s["action"].tolist() for s in steps],
                            img=int(steps[0]["observation"]["image"].sum()),
                            src=[s["source"].decode() for s in steps]))
        assert not any(m == "rldg_data" or m.startswith("rldg_data.") for m in sys.modules)
        print(json.dumps(out))
    """)
    env = dict(os.environ, PYTHONPATH="")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         cwd="/", timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    got = {e["id"]: e for e in json.loads(res.stdout.strip().splitlines()[-1])}
    for ep in eps:
        g = got[ep.episode_id]
        assert g["n"] == len(ep)
        np.testing.assert_allclose(g["a"], ep.actions)
        assert g["img"] == int(ep.steps[spec.IMAGE][0].sum())
        assert g["src"] == ep.sources.tolist()


def test_reads_what_tfds_itself_serializes(tmp_path):
    """Our decoder agrees with TFDS's own encoder (the reference serialization)."""
    from tensorflow_datasets.core import example_serializer

    from rldg_data.io.codec import decode_episode

    ep = make_episode("ref", length=4, image_size=8, wrist=True)
    data_spec = spec.DatasetSpec(8, True, 4, 4, "png")
    feats = tfds_json.features_for(data_spec)
    raw_steps = []
    for t in range(len(ep)):
        obs = {"image": ep.steps[spec.IMAGE][t], "state": ep.steps[spec.STATE][t],
               "wrist_image": ep.steps[spec.WRIST_IMAGE][t]}
        step = {k: ep.steps[k][t] for k in ep.steps if not k.startswith("observation/")}
        raw_steps.append({"observation": obs, **step})
    encoded = feats.encode_example({"steps": raw_steps, "episode_metadata": ep.metadata.to_dict()})
    record = example_serializer.ExampleSerializer(feats.get_serialized_info()).serialize_example(encoded)
    assert_same_episode(ep, decode_episode(record, expected=data_spec))


def test_writer_refuses_invalid_and_leaves_nothing(tmp_path):
    good = make_episode("good")
    bad = make_episode("bad")
    bad.steps[spec.ACTION][1, 0] = np.nan
    with pytest.raises(ContractError, match="'bad'.*step 1.*steps/action"):
        write_dataset([good, bad], tmp_path, "ds")
    assert not (tmp_path / "ds" / "1.0.0").exists()
    assert [p.name for p in (tmp_path / "ds").iterdir()] == []


def test_writer_refuses_duplicate_ids(tmp_path):
    with pytest.raises(ContractError, match="duplicate"):
        write_dataset([make_episode("x"), make_episode("x", seed=3)], tmp_path, "ds")


def test_existing_dataset_kept_unless_overwrite(tmp_path):
    first = write_dataset([make_episode("a")], tmp_path, "ds")
    with pytest.raises(DatasetError, match="already exists"):
        write_dataset([make_episode("b")], tmp_path, "ds")
    assert [e.episode_id for e in read_episodes(first)] == ["a"]
    write_dataset([make_episode("b")], tmp_path, "ds", overwrite=True)
    assert [e.episode_id for e in read_episodes(first)] == ["b"]


def test_splits_and_shards(tmp_path):
    eps = make_episodes(8)
    with DatasetWriter(tmp_path, "ds", eps[0].spec(), max_shard_bytes=2000) as w:
        for i, ep in enumerate(eps):
            w.add(ep, "val" if i % 4 == 0 else "train")
    files = open_dataset(tmp_path / "ds")
    assert sum(files.shard_lengths["train"]) == 6 and sum(files.shard_lengths["val"]) == 2
    assert len(files.shards["train"]) > 1
    assert [e.episode_id for e in read_episodes(tmp_path / "ds", "val")] == ["ep-0-0", "ep-0-4"]
    info = json.loads((files.path / "rldg_info.json").read_text())
    assert info["num_episodes"] == 8 and len(info["digest"]) == 64


def test_same_episodes_same_digest(tmp_path):
    eps = make_episodes(4)
    a = write_dataset(eps, tmp_path / "a", "ds")
    b = write_dataset(list(reversed(eps)), tmp_path / "b", "ds")
    digest = lambda p: json.loads((p / "rldg_info.json").read_text())["digest"]  # noqa: E731
    assert digest(a) == digest(b)
    c = write_dataset(make_episodes(4, seed=1), tmp_path / "c", "ds")
    assert digest(c) != digest(a)


def test_exception_inside_writer_discards(tmp_path):
    with pytest.raises(RuntimeError):
        with DatasetWriter(tmp_path, "ds", make_episode().spec()) as w:
            w.add(make_episode("a"))
            raise RuntimeError("boom")
    assert list((tmp_path / "ds").iterdir()) == []


def test_undecoded_images_pass_through_unchanged(tiny_dataset, tmp_path):
    path, eps = tiny_dataset
    raw = read_episodes(path, decode_images=False)
    assert raw[0].steps[spec.IMAGE].dtype == object
    copy = write_dataset(raw, tmp_path / "copy", "tiny", open_dataset(path).spec)
    for a, b in zip(eps, read_episodes(copy)):
        assert_same_episode(a, b)


def test_restamp_writes_what_encoding_the_decoded_episode_would(tmp_path):
    """The mix writes an episode its recipe left unchanged by re-stamping the source's Example
    (`codec.restamp`); that must be the very record `encode_episode` makes of the decoded episode
    (same bytes, so the same dataset digest), keys outside the contract dropped as it drops them."""
    from rldg_data.io.codec import decode_episode, encode_episode, parse_example, restamp

    for ep in make_episodes(6, seed=4, image_size=8, wrist=True):
        record = encode_episode(ep)
        want = encode_episode(decode_episode(record, decode_image_fields=False).replace(recipe_hash="abc123"))
        assert restamp(parse_example(record), "abc123") == want
        example = parse_example(record)
        example.features.feature["extra/not_in_the_contract"].bytes_list.value.append(b"x")
        assert restamp(example, "abc123") == want
