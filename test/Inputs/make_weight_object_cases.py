#!/usr/bin/env python3
"""Writes a model whose large weights go to the artifact's weight object (lib/Artifact/
WeightObject.h) and its expected output, computed here by numpy in float64 (an independent
reference).

Usage: make_weight_object_cases.py OUT_DIR

OUT_DIR/mlp/  y = relu(x W1 + b1) W2 + b2 with x [2, 512], W1 [512, 1024] (2 MiB),
              W2 [1024, 256] (1 MiB), b1 [1024] (4 KiB, the smallest size that leaves LLVM IR)
              and b2 [256] (1 KiB, stays in IR); model.onnx + test_data_set_0.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = os.path.join(sys.argv[1], "mlp")
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 512)).astype(np.float32)
    w1 = (rng.standard_normal((512, 1024)) * 0.05).astype(np.float32)
    b1 = (rng.standard_normal(1024) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((1024, 256)) * 0.05).astype(np.float32)
    b2 = (rng.standard_normal(256) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h0"]),
             helper.make_node("Add", ["h0", "b1"], ["h1"]),
             helper.make_node("Relu", ["h1"], ["h"]),
             helper.make_node("MatMul", ["h", "w2"], ["y0"]),
             helper.make_node("Add", ["y0", "b2"], ["y"])]
    graph = helper.make_graph(nodes, "weight_object",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 512])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 256])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, os.path.join(out, "model.onnx"))
    h = np.maximum(x.astype(np.float64) @ w1 + b1, 0.0)
    y = (h @ w2 + b2).astype(np.float32)
    for name, arr in (("input_0", x), ("output_0", y)):
        with open(os.path.join(out, "test_data_set_0", name + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(arr, name.replace("input_0", "x").replace("output_0", "y"))
                    .SerializeToString())


if __name__ == "__main__":
    main()
