#!/usr/bin/env python3
"""Writes a small MLP used by the compression end-to-end tests, with an input data set.

mlp.onnx: x[4, 256] -> MatMul(W1 [256, 192]) -> Relu -> Gemm(W2 [128, 192], transB, bias b2)
          -> Tanh -> MatMul(W3 [128, 64]) -> y[4, 64]
W2 has a few outlier input channels (x25), so outlier channel rearrangement has something to
do; its permutation can be folded into W1's columns through the Relu.

Usage: make_compress_model.py OUT_DIR [ROWS]
ROWS (default 4) is the number of rows of x and y (1: every layer a matrix-vector product).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((256, 192)) * 0.06).astype(np.float32)
    w2 = (rng.standard_normal((128, 192)) * 0.07).astype(np.float32)
    w2[:, rng.choice(192, 6, replace=False)] *= 25.0
    b2 = (rng.standard_normal(128) * 0.1).astype(np.float32)
    w3 = (rng.standard_normal((128, 64)) * 0.09).astype(np.float32)
    x = rng.standard_normal((4, 256)).astype(np.float32)[:rows]
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h1"], name="fc1"),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Gemm", ["r1", "W2", "b2"], ["h2"], name="fc2", transB=1),
        helper.make_node("Tanh", ["h2"], ["t2"], name="tanh2"),
        helper.make_node("MatMul", ["t2", "W3"], ["y"], name="fc3"),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "W1"), (w2, "W2"), (b2, "b2"),
                                                        (w3, "W3"))]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, 256])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, 64])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    onnx.save(model, os.path.join(out, "mlp.onnx"))
    with open(os.path.join(out, "data", "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())


if __name__ == "__main__":
    main()
