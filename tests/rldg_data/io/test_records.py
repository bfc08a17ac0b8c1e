"""The record layer without TensorFlow: TFRecord framing, Example messages and frames are
TensorFlow's and PIL's byte for byte, and damage is named."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from rldg_data.errors import ContractError
from rldg_data.io.records import RecordWriter, index_shard, iter_records


def _records(n: int = 5) -> list[bytes]:
    rng = np.random.default_rng(0)
    return [rng.bytes(int(rng.integers(0, 5000))) for _ in range(n)]


def test_writer_output_is_tensorflows_and_reads_back(tmp_path):
    import tensorflow as tf

    records = _records()
    ours, theirs = tmp_path / "ours.tfrecord", tmp_path / "tf.tfrecord"
    with RecordWriter(ours) as writer:
        for r in records:
            writer.write(r)
    with tf.io.TFRecordWriter(str(theirs)) as writer:
        for r in records:
            writer.write(r)
    assert ours.read_bytes() == theirs.read_bytes()
    assert list(tf.data.TFRecordDataset(str(ours)).as_numpy_iterator()) == records
    assert [r for _, r in iter_records(theirs, len(records))] == records
    assert [n for _, n in index_shard(ours)] == [len(r) for r in records]


@pytest.mark.parametrize("damage, words", [("flip", "damaged"), ("truncate", "truncated"), ("count", "holds 5 records")])
def test_damage_is_named_with_file_and_record(tmp_path, damage, words):
    path = tmp_path / "shard.tfrecord"
    with RecordWriter(path) as writer:
        for r in _records():
            writer.write(r)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) * 2 // 3]
    path.write_bytes(bytes(data))
    with pytest.raises(ContractError, match=words) as err:
        list(iter_records(path, 6 if damage == "count" else 5))
    assert str(path) in str(err.value)
    if damage != "count":
        assert "in file" in str(err.value)


def test_example_messages_serialize_as_tensorflows(tiny_dataset):
    from tensorflow.core.example import example_pb2

    from rldg_data.io.codec import encode_episode
    from rldg_data.io.example_proto import Example

    _, episodes = tiny_dataset
    for episode in episodes[:3]:
        record = encode_episode(episode, "png")
        theirs = example_pb2.Example()
        theirs.ParseFromString(record)
        assert theirs.SerializeToString(deterministic=True) == record
        ours = Example()
        ours.ParseFromString(theirs.SerializeToString())
        assert ours.SerializeToString(deterministic=True) == record


def test_jpeg_frames_decode_as_pil_does():
    from rldg_data.io.images import decode_image, encode_image

    rng = np.random.default_rng(1)
    for size in (16, 64, 100):
        frame = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        blob = encode_image(frame, "jpeg")
        with Image.open(io.BytesIO(blob)) as img:
            np.testing.assert_array_equal(decode_image(blob), np.asarray(img.convert("RGB")))
        assert decode_image(blob, size=8).shape == (8, 8, 3)
    with pytest.raises(ContractError, match="cannot decode"):
        decode_image(b"\xff\xd8 not a jpeg")
