#!/usr/bin/env python3
"""Writes end-to-end cases for contractions whose right-hand side is an activation (read at run
time by sparq_uk_sgemm_f32, runtime/kernels/Gemm.cpp), with expected outputs computed here by numpy
in float64, in the ONNX backend-test layout.

Usage: make_activation_matmul_cases.py OUT_DIR

act2d/       MatMul a[13,37] @ b[37,45], both graph inputs
batched4d/   MatMul a[2,3,17,9] @ b[2,3,9,40]
transposed/  MatMul a[2,5,33] @ Transpose(b[2,40,33], perm 0,2,1)
vector_rhs/  MatMul a[3,7,11] @ b[11,5] (a batched activation against a 2-D activation)
attention/   Softmax(Q @ Kᵀ / 4) @ V with Q, K, V [1,4,20,16] graph inputs
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save_case(out, name, nodes, inputs, outputs, ins, outs):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in zip(inputs, ins)],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in zip(outputs, outs)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    d = os.path.join(out, name, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(out, name, "model.onnx"))
    for kind, arrays in (("input", ins), ("output", outs)):
        for i, a in enumerate(arrays):
            with open(os.path.join(d, f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a.astype(np.float32)).SerializeToString())


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(11)
    f = lambda *s: rng.uniform(-1, 1, s).astype(np.float32)
    mm = lambda a, b: (a.astype(np.float64) @ b.astype(np.float64))

    a, b = f(13, 37), f(37, 45)
    save_case(out, "act2d", [helper.make_node("MatMul", ["a", "b"], ["y"])], ["a", "b"], ["y"],
              [a, b], [mm(a, b)])
    a, b = f(2, 3, 17, 9), f(2, 3, 9, 40)
    save_case(out, "batched4d", [helper.make_node("MatMul", ["a", "b"], ["y"])], ["a", "b"],
              ["y"], [a, b], [mm(a, b)])
    a, b = f(2, 5, 33), f(2, 40, 33)
    save_case(out, "transposed",
              [helper.make_node("Transpose", ["b"], ["bt"], perm=[0, 2, 1]),
               helper.make_node("MatMul", ["a", "bt"], ["y"])], ["a", "b"], ["y"], [a, b],
              [mm(a, b.transpose(0, 2, 1))])
    a, b = f(3, 7, 11), f(11, 5)
    save_case(out, "vector_rhs", [helper.make_node("MatMul", ["a", "b"], ["y"])], ["a", "b"],
              ["y"], [a, b], [mm(a, b)])
    q, k, v = f(1, 4, 20, 16), f(1, 4, 20, 16), f(1, 4, 20, 16)
    s = mm(q, k.transpose(0, 1, 3, 2)) / 4.0
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    save_case(out, "attention",
              [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
               helper.make_node("MatMul", ["q", "kt"], ["s"]),
               helper.make_node("Constant", [], ["scale"], value=numpy_helper.from_array(np.array(4.0, np.float32))),
               helper.make_node("Div", ["s", "scale"], ["ss"]),
               helper.make_node("Softmax", ["ss"], ["p"], axis=-1),
               helper.make_node("MatMul", ["p", "v"], ["y"])],
              ["q", "k", "v"], ["y"], [q, k, v], [p @ v.astype(np.float64)])


if __name__ == "__main__":
    main()
