#!/usr/bin/env python3
"""Writes end-to-end cases for the CPU micro-kernels (f32 contractions with a constant weight,
runtime/kernels/Gemm.cpp) in the ONNX backend-test layout, with expected outputs computed here
by numpy in float64 from the float32 inputs and weights, then cast to float32 (an independent
reference).

Usage: make_ukernel_cases.py OUT_DIR

matmul_M_K_N/  MatMul x[M,K] @ W[K,N], W an initializer; odd sizes that end inside a panel and
               inside a register tile, a K over one reduction block, M over one row block
gemm_transb/   Gemm(x[M,K], W[N,K], bias[N], alpha=0.5, beta=2, transB=1), W and bias initializers
batched/       MatMul x[2,3,K] @ W[K,N] (a batched activation against a 2-D weight)
shared/        one weight W[K,N] used by two MatMuls: y0 = x0 @ W, y1 = Relu(x1) @ W
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MATMUL_SIZES = [(1, 1, 1), (1, 257, 33), (3, 100, 17), (5, 70, 37), (9, 31, 300), (130, 64, 65)]


def save_case(out, name, model, ins, outs):
    d = os.path.join(out, name)
    ds = os.path.join(d, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, arrays in (("input", ins), ("output", outs)):
        for i, a in enumerate(arrays):
            with open(os.path.join(ds, f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a).SerializeToString())


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def f32(rng, *shape):
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def matmul_ref(x, w):
    """float32 operands, float64 products and sums, float32 result."""
    return np.matmul(x.astype(np.float64), w.astype(np.float64)).astype(np.float32)


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(20261202)

    for m, k, n in MATMUL_SIZES:
        x, w = f32(rng, m, k), f32(rng, k, n)
        mod = model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                    [vi("x", [m, k])], [vi("y", [m, n])], [numpy_helper.from_array(w, "w")])
        save_case(out, f"matmul_{m}_{k}_{n}", mod, [x], [matmul_ref(x, w)])

    # Gemm: Y = alpha * x @ W^T + beta * bias.
    m, k, n, alpha, beta = 7, 45, 70, 0.5, 2.0
    x, w, bias = f32(rng, m, k), f32(rng, n, k), f32(rng, n)
    mod = model([helper.make_node("Gemm", ["x", "w", "bias"], ["y"], alpha=alpha, beta=beta,
                                  transB=1)],
                [vi("x", [m, k])], [vi("y", [m, n])],
                [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "bias")])
    y = (alpha * (x.astype(np.float64) @ w.astype(np.float64).T)
         + beta * bias.astype(np.float64)).astype(np.float32)
    save_case(out, "gemm_transb", mod, [x], [y])

    # Batched activation against a 2-D weight.
    k, n = 50, 40
    x, w = f32(rng, 2, 3, k), f32(rng, k, n)
    mod = model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                [vi("x", [2, 3, k])], [vi("y", [2, 3, n])], [numpy_helper.from_array(w, "w")])
    save_case(out, "batched", mod, [x], [matmul_ref(x, w)])

    # One weight feeding two MatMuls.
    k, n = 33, 35
    x0, x1, w = f32(rng, 4, k), f32(rng, 6, k), f32(rng, k, n)
    mod = model([helper.make_node("MatMul", ["x0", "w"], ["y0"]),
                 helper.make_node("Relu", ["x1"], ["r1"]),
                 helper.make_node("MatMul", ["r1", "w"], ["y1"])],
                [vi("x0", [4, k]), vi("x1", [6, k])], [vi("y0", [4, n]), vi("y1", [6, n])],
                [numpy_helper.from_array(w, "w")])
    save_case(out, "shared", mod, [x0, x1],
              [matmul_ref(x0, w), matmul_ref(np.maximum(x1, 0), w)])


if __name__ == "__main__":
    main()
