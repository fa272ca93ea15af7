#!/usr/bin/env python3
"""Writes models with an ai.onnx.preview.training Gradient node in the ONNX backend-test layout,
with expected gradients from central finite differences of a float64 numpy forward pass (the
derivative rules of lib/Import/ONNX/GradientExpansion.cpp play no part in the reference).

Usage: make_gradient_cases.py OUT_DIR

chain13/   MatMul, Add with a broadcast bias, Tanh, Sigmoid, Mul, Exp, Sqrt, Div, Sub of a
           rank-0 scalar, Relu, Sum, Identity, Log, Neg; y = [3, 5] (differentiated as sum(y))
           w.r.t. X [3, 4], W [4, 5], b [5], s []; opset 13 (ReduceSum's axes an input)
chain12/   the same graph at opset 12 (ReduceSum's axes an attribute)
row_bias/  Mul by a [1, 5] row (a broadcast kept dimension) and Sub; one x (c) reaches y twice
unused/    a Gradient w.r.t. a value y does not depend on (zeros)
softmax/   a Softmax between x and y: sparq has no derivative for it (a compile error)
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import save_case

TRAINING = "ai.onnx.preview.training"


def chain_forward(x, w, b, s):
    a = x @ w
    z = a + b
    t = np.tanh(z)
    sg = 1 / (1 + np.exp(-z))
    m = t * sg
    q = np.sqrt(np.exp(b))
    d = m / q
    r = np.maximum(d - s, 0)
    p = r + m + d
    pi = p
    return -np.log(pi * pi + 1.0)


def chain_nodes():
    n = helper.make_node
    return [
        n("MatMul", ["X", "W"], ["a"]), n("Add", ["a", "b"], ["z"]), n("Tanh", ["z"], ["t"]),
        n("Sigmoid", ["z"], ["sg"]), n("Mul", ["t", "sg"], ["m"]), n("Exp", ["b"], ["eb"]),
        n("Sqrt", ["eb"], ["q"]), n("Div", ["m", "q"], ["d"]), n("Sub", ["d", "s"], ["ds"]),
        n("Relu", ["ds"], ["r"]), n("Sum", ["r", "m", "d"], ["p"]), n("Identity", ["p"], ["pi"]),
        n("Mul", ["pi", "pi"], ["p2"]), n("Add", ["p2", "one"], ["p21"]), n("Log", ["p21"], ["l"]),
        n("Neg", ["l"], ["y"]),
    ]


def row_forward(c, v):
    return (c * v) - c * c


def numeric_grads(f, args, eps=1e-6):
    """d sum(f(args)) / d args[i], central differences in float64."""
    args = [np.asarray(a, np.float64) for a in args]
    grads = []
    for i, a in enumerate(args):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [x.copy() for x in args]
            minus = [x.copy() for x in args]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            g[idx] = (f(*plus).sum() - f(*minus).sum()) / (2 * eps)
        grads.append(g)
    return grads


def write(out, name, nodes, inputs, feeds, outputs, results, opset=13, initializers=()):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(np.shape(v)))
         for n, v in zip(inputs, feeds)],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(np.shape(v)))
         for n, v in zip(outputs, results)],
        list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                    helper.make_opsetid(TRAINING, 1)])
    f32 = lambda arrays: [np.asarray(a, np.float32) for a in arrays]
    save_case(out, name, model, [(f32(feeds), f32(results))])


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    f32 = lambda a: np.asarray(a, np.float32)
    x, w = f32(rng.standard_normal((3, 4))), f32(rng.standard_normal((4, 5)) * 0.5)
    b, s = f32(rng.standard_normal(5) * 0.5), f32(0.05)
    one = numpy_helper.from_array(np.array([1.0], np.float32), "one")
    y = chain_forward(*(a.astype(np.float64) for a in (x, w, b, s)))
    grads = numeric_grads(chain_forward, [x, w, b, s])
    for name, opset in (("chain13", 13), ("chain12", 12)):
        nodes = chain_nodes() + [helper.make_node(
            "Gradient", ["X", "W", "b", "s"], ["dX", "dW", "db", "ds_"], domain=TRAINING,
            xs=["X", "W", "b", "s"], y="y")]
        write(out, name, nodes, ["X", "W", "b", "s"], [x, w, b, s],
              ["y", "dX", "dW", "db", "ds_"], [y] + grads, opset, [one])

    c, v = f32(rng.standard_normal((3, 5))), f32(rng.standard_normal((1, 5)))
    n = helper.make_node
    nodes = [n("Mul", ["c", "v"], ["cv"]), n("Mul", ["c", "c"], ["cc"]),
             n("Sub", ["cv", "cc"], ["y"]),
             n("Gradient", ["c", "v"], ["dc", "dv"], domain=TRAINING, xs=["c", "v"], y="y")]
    write(out, "row_bias", nodes, ["c", "v"], [c, v], ["y", "dc", "dv"],
          [row_forward(c.astype(np.float64), v.astype(np.float64))] +
          numeric_grads(row_forward, [c, v]))

    nodes = [n("Mul", ["c", "c"], ["y"]),
             n("Gradient", ["c", "v"], ["dc", "dv"], domain=TRAINING, xs=["c", "v"], y="y")]
    write(out, "unused", nodes, ["c", "v"], [c, v], ["y", "dc", "dv"],
          [c.astype(np.float64) ** 2, 2 * c.astype(np.float64), np.zeros((1, 5))])

    nodes = [n("Softmax", ["c"], ["y"]),
             n("Gradient", ["c"], ["dc"], domain=TRAINING, xs=["c"], y="y")]
    write(out, "softmax", nodes, ["c"], [c], ["y", "dc"], [c, c])


if __name__ == "__main__":
    main()
