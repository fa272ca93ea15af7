#!/usr/bin/env python3
"""Writes models with symbolic dimensions in the ONNX backend-test layout, one data set per run
shape, with expected outputs computed here by numpy (an independent reference).

Usage: make_dynamic_cases.py OUT_DIR

mlp_batch/  x[N,64] -> MatMul 64x128 -> Add -> Relu -> MatMul 128x16: data sets at N = 1, 3, 8
seq3d/      x[B,S,32] -> MatMul 32x48 (+ bias): data sets at (B,S) = (1,5), (2,3), (3,128)
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import save_case


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(11)
    F = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    arr = numpy_helper.from_array

    w1 = rng.standard_normal((64, 128)).astype(np.float32) * 0.1
    b1 = rng.standard_normal(128).astype(np.float32)
    w2 = rng.standard_normal((128, 16)).astype(np.float32) * 0.1
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]),
         helper.make_node("Add", ["h", "b1"], ["hb"]),
         helper.make_node("Relu", ["hb"], ["r"]),
         helper.make_node("MatMul", ["r", "w2"], ["y"])],
        "mlp", [vi("x", F, ["N", 64])], [vi("y", F, ["N", 16])],
        [arr(w1, "w1"), arr(b1, "b1"), arr(w2, "w2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    sets = []
    for n in (1, 3, 8):
        x = rng.standard_normal((n, 64)).astype(np.float32)
        sets.append(([x], [np.maximum(x @ w1 + b1, 0) @ w2]))
    save_case(out, "mlp_batch", m, sets)

    w = rng.standard_normal((32, 48)).astype(np.float32) * 0.1
    b = rng.standard_normal(48).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
        "seq", [vi("x", F, ["B", "S", 32])], [vi("y", F, ["B", "S", 48])],
        [arr(w, "w"), arr(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    sets = []
    for bs, s in ((1, 5), (2, 3), (3, 128)):
        x = rng.standard_normal((bs, s, 32)).astype(np.float32)
        sets.append(([x], [x @ w + b]))
    save_case(out, "seq3d", m, sets)


if __name__ == "__main__":
    main()
