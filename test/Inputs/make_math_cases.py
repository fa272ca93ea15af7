#!/usr/bin/env python3
"""Writes a model of the transcendental activations sparq computes with inline polynomials (Exp,
Tanh, Erf, Sigmoid, Softmax, Elu, and GELU in its erf and tanh forms built from them) on inputs that span the
float32 range: every 1/64 in [-20, 20], wide values out to +-100 (exp's overflow and underflow),
tiny values, zeros and +-inf. Expected outputs are computed here in float64 with Python's math
module and numpy, independent of sparq, in the backend-test layout.

Usage: make_math_cases.py OUT_DIR
"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def inputs():
    core = np.arange(-20 * 64, 20 * 64 + 1) / 64.0
    wide = np.array([-100, -89, -88.5, -87.3, -80, -50, 30, 50, 80, 87.3, 88.5, 88.8, 89, 100])
    tiny = np.array([1e-30, -1e-30, 1e-8, -1e-8, 1e-4, -1e-4, 0.0, -0.0, np.inf, -np.inf])
    return np.concatenate([core, wide, tiny]).astype(np.float32)


def main():
    out = sys.argv[1]
    x = inputs()
    xd = x.astype(np.float64)
    n = x.size
    with np.errstate(over="ignore", invalid="ignore"):
        exp = np.exp(xd)
        sig = 1.0 / (1.0 + np.exp(-xd))
        erf = np.array([math.erf(v) for v in xd])
        gelu = 0.5 * xd * (1.0 + np.array([math.erf(v / math.sqrt(2.0)) for v in xd]))
        gelu_tanh = 0.5 * xd * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (xd + 0.044715 * xd ** 3)))
        elu = np.where(xd > 0, xd, np.exp(xd) - 1.0)
    finite = np.isfinite(xd)
    sm_in = xd[finite & (np.abs(xd) <= 20)].reshape(1, -1)
    sm = np.exp(sm_in - sm_in.max())
    sm /= sm.sum()
    expected = {"exp": exp, "tanh": np.tanh(xd), "erf": erf, "sigmoid": sig, "elu": elu,
                "gelu": gelu, "gelu_tanh": gelu_tanh, "softmax": sm}
    nodes = [helper.make_node("Exp", ["x"], ["exp"]),
             helper.make_node("Tanh", ["x"], ["tanh"]),
             helper.make_node("Erf", ["x"], ["erf"]),
             helper.make_node("Sigmoid", ["x"], ["sigmoid"]),
             helper.make_node("Elu", ["x"], ["elu"], alpha=1.0),
             # GELU: 0.5 x (1 + erf(x / sqrt 2)) and 0.5 x (1 + tanh(c (x + 0.044715 x^3)))
             helper.make_node("Mul", ["x", "inv_sqrt2"], ["g0"]),
             helper.make_node("Erf", ["g0"], ["g1"]),
             helper.make_node("Add", ["g1", "one"], ["g2"]),
             helper.make_node("Mul", ["x", "g2"], ["g3"]),
             helper.make_node("Mul", ["g3", "half"], ["gelu"]),
             helper.make_node("Mul", ["x", "x"], ["t0"]),
             helper.make_node("Mul", ["t0", "x"], ["t1"]),
             helper.make_node("Mul", ["t1", "k"], ["t2"]),
             helper.make_node("Add", ["x", "t2"], ["t3"]),
             helper.make_node("Mul", ["t3", "c"], ["t4"]),
             helper.make_node("Tanh", ["t4"], ["t5"]),
             helper.make_node("Add", ["t5", "one"], ["t6"]),
             helper.make_node("Mul", ["x", "t6"], ["t7"]),
             helper.make_node("Mul", ["t7", "half"], ["gelu_tanh"]),
             helper.make_node("Softmax", ["s"], ["softmax"], axis=-1)]
    consts = {"inv_sqrt2": 1 / math.sqrt(2.0), "one": 1.0, "half": 0.5, "k": 0.044715,
              "c": math.sqrt(2.0 / math.pi)}
    inits = [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in consts.items()]
    outputs = ["exp", "tanh", "erf", "sigmoid", "elu", "gelu", "gelu_tanh", "softmax"]
    graph = helper.make_graph(
        nodes, "math_cases",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, list(sm_in.shape))],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT,
                                       list(sm_in.shape) if o == "softmax" else [n])
         for o in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    data = os.path.join(out, "test_data_set_0")
    for i, (name, value) in enumerate([("x", x), ("s", sm_in.astype(np.float32))]):
        onnx.save_tensor(numpy_helper.from_array(value, name), os.path.join(data, f"input_{i}.pb"))
    for i, name in enumerate(outputs):
        with np.errstate(over="ignore"):
            value = expected[name].astype(np.float32)
        onnx.save_tensor(numpy_helper.from_array(value, name),
                         os.path.join(data, f"output_{i}.pb"))


if __name__ == "__main__":
    main()
