"""The one episode codec: `Episode` <-> serialized `tf.train.Example`, in TFDS's layout.

`encode_episode` serializes an episode (the dataset writer, the Beam mix); `features_dict` gives
the nested dict a TFDS builder yields for the same episode (builders/rldg_rollouts, rldg_mix), so
both routes write the same features; `decode_episode` parses a record; `check_record` is the one
decode -> contract violations -> location sequence every reader uses (`rldg validate` collects the
problems, the readers and the Beam pipeline raise the first); episodes that come from elsewhere
(collector logs) are checked by the same `contract.check.episode_violations`. No TensorFlow: the message classes are
built from a descriptor (`example_proto`).

TFDS stores an RLDS episode as one Example whose keys are the flattened feature paths
(`steps/observation/image`, `episode_metadata/episode_id`, ...), every step field stacked over
time (images as a bytes list, bools and ints as int64, vectors flattened). Building the proto
here, field by field from whole arrays, avoids TFDS's per-step Python encoding, which is what
limits a plain TFDS generator to a few thousand steps a second. A test checks that TFDS decodes
what we write and that we read what TFDS writes.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from google.protobuf.message import DecodeError

from rldg_data.contract import spec
from rldg_data.contract.check import episode_violations
from rldg_data.contract.episode import Episode, EpisodeMetadata
from rldg_data.errors import ContractError
from rldg_data.io.example_proto import Example
from rldg_data.io.images import decode_images, encode_images

_INT_FIELDS = (spec.IS_FIRST, spec.IS_LAST, spec.IS_TERMINAL, spec.STAGE)
_INT_METADATA = (spec.SUCCESS, spec.LENGTH, spec.SEED)


def encode_episode(episode: Episode, image_encoding: str = "jpeg",
                   encoded_images: Optional[dict[str, list[bytes]]] = None) -> bytes:
    """Serializes an episode as TFDS would.

    Frames already encoded (passed in `encoded_images`, or image fields that are object arrays of
    bytes, as `reader.iter_episodes(decode_images=False)` gives them) are written as they are:
    re-mixing a dataset without touching its images never re-encodes a JPEG.
    """
    example = Example()
    feature = example.features.feature
    for name, values in episode.steps.items():
        key = f"{spec.STEPS}/{name}"
        if name in spec.IMAGE_FIELDS:
            feature[key].bytes_list.value.extend(image_blobs(values, image_encoding,
                                                             (encoded_images or {}).get(name)))
        elif name in spec.TEXT_STEP_FIELDS:
            feature[key].bytes_list.value.extend(_text_list(values))
        elif name in _INT_FIELDS:  # tolist(): protobuf takes Python ints faster (BENCHMARKS.md)
            feature[key].int64_list.value.extend(np.asarray(values, np.int64).ravel().tolist())
        else:  # float32 -> Python float -> float32: the same bits
            feature[key].float_list.value.extend(np.asarray(values, np.float32).ravel().tolist())
    for name, value in episode.metadata.to_dict().items():
        key = f"{spec.EPISODE_METADATA}/{name}"
        if isinstance(value, str):
            feature[key].bytes_list.value.append(value.encode("utf-8"))
        elif name in _INT_METADATA:
            feature[key].int64_list.value.append(int(value))
        else:
            feature[key].float_list.value.append(float(value))
    return example.SerializeToString(deterministic=True)  # map keys sorted: same bytes in any process


def image_blobs(values, image_encoding: str = "jpeg", encoded: Optional[list[bytes]] = None) -> list[bytes]:
    """The encoded frames of an image field: `encoded` if given, the bytes themselves when the
    field was read with images left encoded (an object array), else frames encoded now."""
    if encoded is not None:
        return list(encoded)
    if values.dtype == object:  # read with decode_images=False
        return list(values)
    return encode_images(values, image_encoding)


def features_dict(episode: Episode, image_encoding: str = "jpeg") -> dict:
    """The nested example a TFDS builder yields for `episode` (features of `tfds_json.features_for`):
    columnar step fields (one array per field), frames as encoded bytes (TFDS stores them as they
    are), text as str. What `encode_episode` serializes, in the form TFDS encodes itself."""
    steps: dict = {}
    for name, values in episode.steps.items():
        if name in spec.IMAGE_FIELDS:
            values = image_blobs(values, image_encoding)
        elif name in spec.TEXT_STEP_FIELDS:
            values = [str(v) for v in values]
        node = steps
        *parents, leaf = spec.split_path(name)
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = values
    return {spec.STEPS: steps, spec.EPISODE_METADATA: episode.metadata.to_dict()}


def _text_list(values) -> list[bytes]:
    values = np.asarray(values)
    if len(values) and np.all(values == values[0]):  # the common case: one instruction/source
        return [str(values[0]).encode("utf-8")] * len(values)
    return [str(v).encode("utf-8") for v in values]


def decode_episode(
    data: bytes,
    file: Optional[str] = None,
    decode_image_fields: bool = True,
    expected: Optional[spec.DatasetSpec] = None,
) -> Episode:
    """Parses a serialized contract Example back into an `Episode`.

    Missing metadata fields are recorded in `Episode.missing_metadata` (validate() reports them);
    a step field with the wrong number of values for its declared shape raises ContractError naming
    the file, episode and field. `expected` gives the per-step shapes to restore.
    """
    return decode_example(parse_example(data, file), file, decode_image_fields, expected)


def parse_example(data: bytes, file: Optional[str] = None) -> Example:
    """The `tf.train.Example` of one record; ContractError naming the file if it is not one."""
    example = Example()
    try:
        example.ParseFromString(data)
    except DecodeError as exc:
        raise ContractError(f"record is not a tf.train.Example: {exc}", file=file) from exc
    return example


def decode_example(example: Example, file: Optional[str] = None, decode_image_fields: bool = True,
                   expected: Optional[spec.DatasetSpec] = None) -> Episode:
    """`decode_episode` of an already parsed Example."""
    feature = example.features.feature
    meta_values, missing = _read_metadata(feature)
    eid = meta_values.get(spec.EPISODE_ID) or None
    steps: dict[str, np.ndarray] = {}
    prefix = spec.STEPS + "/"
    shapes = expected.step_shapes() if expected is not None else {}
    n = _num_steps(feature)
    for key, value in feature.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):]
        kind = value.WhichOneof("kind")
        try:
            steps[name] = _read_step_field(name, kind, value, n, shapes.get(name), decode_image_fields)
        except ContractError as exc:
            raise ContractError(exc.reason, file=file, episode_id=eid, field=key) from exc
    defaults = EpisodeMetadata(episode_id=eid or "").to_dict()
    values = {k: meta_values.get(k, defaults[k]) for k in spec.METADATA_TYPES}
    metadata = EpisodeMetadata(**{k: spec.METADATA_TYPES[k](v) for k, v in values.items()})
    return Episode(steps, metadata, missing_metadata=tuple(missing))


def _num_steps(feature) -> int:
    for name in (spec.IS_FIRST, spec.REWARD, spec.DISCOUNT, spec.IS_LAST):
        key = f"{spec.STEPS}/{name}"
        if key in feature:
            value = feature[key]
            return len(getattr(value, value.WhichOneof("kind")).value)
    return -1


def _read_step_field(name, kind, value, n, shape, decode_image_fields) -> np.ndarray:
    if kind is None:
        return np.zeros((0,), np.float32)
    raw = getattr(value, kind).value
    if name in spec.IMAGE_FIELDS:
        blobs = list(raw)
        if not decode_image_fields:
            return np.asarray(blobs, dtype=object)
        return decode_images(blobs)
    if kind == "bytes_list":
        return np.asarray([b.decode("utf-8") for b in raw], dtype=np.str_)
    want = spec.STEP_DTYPES.get(name, np.float32)
    # fromiter: about twice as fast as asarray over protobuf's repeated field (BENCHMARKS.md, "mix build floor")
    array = np.fromiter(raw, dtype=np.int64 if kind == "int64_list" else np.float32, count=len(raw))
    if want is np.bool_:
        array = array.astype(np.bool_)
    elif want is np.int32:
        array = array.astype(np.int32)
    if name in spec.VECTOR_FIELDS:
        if n == 0 and array.size == 0:  # an empty episode: validate() reports it as such
            return array.reshape(0, shape[0] if shape else 0)
        if n <= 0:
            raise ContractError("cannot infer the number of steps for a vector field")
        if array.size % n:
            raise ContractError(f"{array.size} values do not divide into {n} steps")
        dim = shape[0] if shape else array.size // n
        if array.size != n * dim:
            raise ContractError(f"{array.size} values, expected {n} steps x {dim}")
        return array.reshape(n, dim)
    return array


def _read_metadata(feature) -> tuple[dict, list[str]]:
    values, missing = {}, []
    for name, kind in spec.METADATA_TYPES.items():
        key = f"{spec.EPISODE_METADATA}/{name}"
        if key not in feature:
            missing.append(name)
            continue
        value = feature[key]
        which = value.WhichOneof("kind")
        raw = list(getattr(value, which).value) if which else []
        if not raw:
            missing.append(name)
            continue
        item = raw[0]
        values[name] = item.decode("utf-8") if isinstance(item, bytes) else item
    return values, missing


def check_record(record: bytes, *, file: Optional[str] = None, index: Optional[int] = None,
                 expected: Optional[spec.DatasetSpec] = None, decode_images: bool = True
                 ) -> tuple[Optional[Episode], list[ContractError]]:
    """Decodes one record and checks it: (episode or None, its located contract violations).

    A record that does not decode gives (None, [the error]). Shapes are checked against
    `expected` only with `decode_images` (frames left encoded have no shape to check).
    """
    episode, _, problems = check_record_example(record, file=file, index=index, expected=expected,
                                                decode_images=decode_images)
    return episode, problems


def check_record_example(record: bytes, *, file: Optional[str] = None, index: Optional[int] = None,
                         expected: Optional[spec.DatasetSpec] = None, decode_images: bool = True
                         ) -> tuple[Optional[Episode], Optional[Example], list[ContractError]]:
    """`check_record` that also returns the parsed Example (for `restamp`)."""
    label = f"#{index} in file" if index is not None else None
    example = None
    try:
        example = parse_example(record, file)
        episode = decode_example(example, file, decode_images, expected)
    except ContractError as exc:
        return None, example, [exc.located(file=file, episode_id=exc.episode_id or label)]
    except ValueError as exc:  # a metadata value of the wrong type
        return None, example, [ContractError(str(exc), file=file, episode_id=label)]
    return episode, example, episode_violations(episode, expected if decode_images else None, file=file, label=label)


def restamp(example: Example, recipe_hash: str) -> bytes:
    """The record of a checked, unchanged episode with only its recipe hash replaced: the source's
    Example re-serialized (map keys sorted, as `encode_episode` writes), without rebuilding it from
    arrays. Keys outside the contract (neither a step field nor a metadata field) are dropped, as
    `encode_episode(decode_episode(record))` drops them. The mix writes records it did not relabel
    this way (BENCHMARKS.md, "mix build floor")."""
    feature = example.features.feature
    known = {f"{spec.EPISODE_METADATA}/{name}" for name in spec.METADATA_TYPES}
    for key in [k for k in feature if k not in known and not k.startswith(spec.STEPS + "/")]:
        del feature[key]
    field = feature[f"{spec.EPISODE_METADATA}/{spec.RECIPE_HASH}"].bytes_list.value
    del field[:]
    field.append(recipe_hash.encode("utf-8"))
    return example.SerializeToString(deterministic=True)
