#!/usr/bin/env python3
"""Writes small models whose weights exercise the importer's weight paths.

Usage: make_weight_models.py OUT_DIR

OUT_DIR/inline.onnx    MatMul with a 16x32 float initializer in raw_data (becomes dense_resource)
                       and a 4-element int64 initializer (stays a dense attribute).
OUT_DIR/external.onnx  the same MatMul with its weight in the external file weights.bin
                       (at a non-zero offset), plus OUT_DIR/weights.bin.
OUT_DIR/external_missing.onnx  refers to an external file that does not exist.
OUT_DIR/external_short.onnx    refers to more bytes than weights.bin holds.
The weights are i*0.25 - 64 for i in 0..511, so tests can check values by hand.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def matmul_model(weight):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 32])
    shape = numpy_helper.from_array(np.array([1, 2, 4, 8], dtype=np.int64), "small_ints")
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    graph = helper.make_graph([node], "g", [x], [y], [weight, shape])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def external_weight(location, offset, length):
    t = TensorProto()
    t.name = "w"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([16, 32])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    w = (np.arange(512, dtype=np.float32) * 0.25 - 64).reshape(16, 32)
    onnx.save(matmul_model(numpy_helper.from_array(w, "w")), os.path.join(out, "inline.onnx"))
    offset = 64
    with open(os.path.join(out, "weights.bin"), "wb") as f:
        f.write(b"\0" * offset + w.tobytes())
    onnx.save(matmul_model(external_weight("weights.bin", offset, w.nbytes)),
              os.path.join(out, "external.onnx"))
    onnx.save(matmul_model(external_weight("nowhere.bin", 0, w.nbytes)),
              os.path.join(out, "external_missing.onnx"))
    onnx.save(matmul_model(external_weight("weights.bin", offset + 16, w.nbytes)),
              os.path.join(out, "external_short.onnx"))


if __name__ == "__main__":
    main()
