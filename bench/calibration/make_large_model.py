#!/usr/bin/env python3
"""A ~100M-parameter transformer-style MLP stack and calibration samples, for timing calibration.

  bench/calibration/make_large_model.py OUT [--layers 14] [--dim 768] [--tokens 16]
                                            [--samples 128]

Writes OUT/model.onnx: `layers` blocks of x + W_o(W_v(x)) and x + W_2 relu(W_1 x) (four
dim x dim and two dim x 4·dim MatMuls per block, as a BERT-base layer has; 14 x 768 gives
99M weights) on a [tokens, dim] input, and OUT/calib/sNNN/input_0.npy: `samples` inputs with
correlated channels. The weights are random: this model measures the cost of calibration (time,
memory), not accuracy.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=14)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--samples", type=int, default=128)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    d, f = a.dim, 4 * a.dim
    nodes, inits = [], []
    x = "x"

    def mm(inp, k, n, name):
        w = (rng.standard_normal((k, n), np.float32) / np.sqrt(k)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, name + ".w"))
        nodes.append(helper.make_node("MatMul", [inp, name + ".w"], [name], name=name))
        return name

    for i in range(a.layers):
        q = mm(x, d, d, f"l{i}.q")
        k = mm(x, d, d, f"l{i}.k")
        v = mm(x, d, d, f"l{i}.v")
        s = f"l{i}.qkv"
        nodes.append(helper.make_node("Sum", [q, k, v], [s], name=s))
        o = mm(s, d, d, f"l{i}.o")
        r1 = f"l{i}.res1"
        nodes.append(helper.make_node("Add", [x, o], [r1], name=r1))
        h = mm(r1, d, f, f"l{i}.fc1")
        hr = f"l{i}.relu"
        nodes.append(helper.make_node("Relu", [h], [hr], name=hr))
        o2 = mm(hr, f, d, f"l{i}.fc2")
        x = f"l{i}.out"
        nodes.append(helper.make_node("Add", [r1, o2], [x], name=x))
    graph = helper.make_graph(nodes, "large", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [a.tokens, d])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [a.tokens, d])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    os.makedirs(a.out, exist_ok=True)
    onnx.save(m, os.path.join(a.out, "model.onnx"))
    mix = rng.standard_normal((d, d)).astype(np.float32) * 0.3 + np.eye(d, dtype=np.float32)
    for s in range(a.samples):
        z = rng.standard_normal((a.tokens, d)).astype(np.float32) @ mix.T
        path = os.path.join(a.out, "calib", f"s{s:03d}")
        os.makedirs(path, exist_ok=True)
        np.save(os.path.join(path, "input_0.npy"), z.astype(np.float32))
    n = sum(int(np.prod(t.dims)) for t in inits)
    print(f"{os.path.join(a.out, 'model.onnx')}: {n} weights ({n * 4 / 2**20:.0f} MiB fp32), "
          f"{a.samples} samples of {a.tokens}x{d}")


if __name__ == "__main__":
    main()
