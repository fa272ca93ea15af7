#!/usr/bin/env python3
"""Writes a small NCHW network of pointwise (1x1) convolutions with an input data set, for the
compressed-convolution end-to-end tests.

pw.onnx: x[2, 64, 3, 3] -> Conv 1x1 64->96 (bias) -> Relu -> Conv 1x1 96->40 (no bias)
         -> y[2, 40, 3, 3]   (9 pixels per image: the compressed-weight GEMM)
pw_big.onnx: the same on x[2, 64, 6, 5]   (30 pixels per image: the decoded filter on the
         dense convolution kernel)

Usage: make_pointwise_conv_model.py OUT_DIR   (writes OUT_DIR/pw.onnx, OUT_DIR/data/input_0.pb,
       OUT_DIR/pw_big.onnx, OUT_DIR/data_big/input_0.pb)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def write(out, name, data, h, w):
    rng = np.random.default_rng(11)
    w1 = (rng.standard_normal((96, 64, 1, 1)) * 0.1).astype(np.float32)
    b1 = (rng.standard_normal(96) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((40, 96, 1, 1)) * 0.1).astype(np.float32)
    x = rng.standard_normal((2, 64, h, w)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "W1", "b1"], ["h"], name="pw1"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Conv", ["r", "W2"], ["y"], name="pw2"),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "W1"), (b1, "b1"), (w2, "W2"))]
    graph = helper.make_graph(
        nodes, "pw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 64, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 40, h, w])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(out, data), exist_ok=True)
    onnx.save(model, os.path.join(out, name))
    with open(os.path.join(out, data, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())


def main():
    out = sys.argv[1]
    write(out, "pw.onnx", "data", 3, 3)
    write(out, "pw_big.onnx", "data_big", 6, 5)


if __name__ == "__main__":
    main()
