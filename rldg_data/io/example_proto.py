"""`tf.train.Example` message classes without TensorFlow, built at run time from a descriptor.

The wire format is TensorFlow's (tensorflow/core/example/example.proto and feature.proto): the
same field numbers, packed repeated floats and ints, a map of Features; messages built here parse
and serialize byte for byte as TensorFlow's generated `example_pb2` do (a test checks it), with
protobuf's own C parser (upb), so reading a dataset does not load TensorFlow (about 400 MiB).
They live in a private descriptor pool, so importing TensorFlow in the same process is harmless.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _file() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(name="rldg_data/example.proto", package="tensorflow",
                                               syntax="proto3")

    def message(name: str, *fields, nested=()):
        msg = proto.message_type.add(name=name)
        for field in fields:
            msg.field.add().CopyFrom(field)
        for sub in nested:
            msg.nested_type.add().CopyFrom(sub)
        return msg

    def field(name, number, ftype, label=_F.LABEL_OPTIONAL, type_name=None, packed=False, oneof=None):
        f = _F(name=name, number=number, type=ftype, label=label, json_name=name)
        if type_name:
            f.type_name = type_name
        if packed:
            f.options.packed = True
        if oneof is not None:
            f.oneof_index = oneof
        return f

    rep = _F.LABEL_REPEATED
    message("BytesList", field("value", 1, _F.TYPE_BYTES, rep))
    message("FloatList", field("value", 1, _F.TYPE_FLOAT, rep, packed=True))
    message("Int64List", field("value", 1, _F.TYPE_INT64, rep, packed=True))
    feature = message("Feature",
                      field("bytes_list", 1, _F.TYPE_MESSAGE, type_name=".tensorflow.BytesList", oneof=0),
                      field("float_list", 2, _F.TYPE_MESSAGE, type_name=".tensorflow.FloatList", oneof=0),
                      field("int64_list", 3, _F.TYPE_MESSAGE, type_name=".tensorflow.Int64List", oneof=0))
    feature.oneof_decl.add(name="kind")
    entry = descriptor_pb2.DescriptorProto(name="FeatureEntry")
    entry.field.add().CopyFrom(field("key", 1, _F.TYPE_STRING))
    entry.field.add().CopyFrom(field("value", 2, _F.TYPE_MESSAGE, type_name=".tensorflow.Feature"))
    entry.options.map_entry = True
    message("Features", field("feature", 1, _F.TYPE_MESSAGE, rep, type_name=".tensorflow.Features.FeatureEntry"),
            nested=[entry])
    message("Example", field("features", 1, _F.TYPE_MESSAGE, type_name=".tensorflow.Features"))
    return proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file())
Example = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("tensorflow.Example"))
Features = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("tensorflow.Features"))
Feature = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("tensorflow.Feature"))
