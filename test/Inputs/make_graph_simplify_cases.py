#!/usr/bin/env python3
"""Writes models that need the importer's shape folding and function expansion
(lib/Import/ONNX/GraphSimplify.h), in the ONNX backend-test layout, with expected outputs
computed here by numpy (an independent reference).

Usage: make_graph_simplify_cases.py OUT_DIR

reshape_chain/  opset 11, as PaddlePaddle and older PyTorch export it: the Reshape target is
                Concat(Unsqueeze(Gather(Shape(x), 0)), Unsqueeze(Gather(Shape(x), 1) *
                Gather(Shape(x), 2))) over x[N,3,4] with a symbolic N, then an Add.
                test_data_set_0 has N=2, test_data_set_1 has N=5.
expand_chain/   opset 13: Expand and ConstantOfShape whose shapes are Concat/Slice/Where/Cast
                arithmetic on Shape(x) of a static x.
mvn/, windows/  operators sparq converts only through their ONNX function bodies:
                MeanVarianceNormalization (opset 13); HannWindow and BlackmanWindow (opset 17)
                of a constant length.
if_shape/       an If on Equal(Gather(Shape(x), 0), 2) over x[N,3]: with N pinned the condition folds and
                the If becomes its branch (then: Relu(x) + a branch initializer; else: Neg(x)).
                test_data_set_0 has N=2 (then), test_data_set_1 has N=4 (else).
sce/            SoftmaxCrossEntropyLoss with class weights and ignore_index (opset 13): a
                context-dependent function whose body holds NegativeLogLikelihoodLoss (a second
                function) and a Reshape to Shape(x).
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import save_case, model, vi


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def reshape_chain(out, rng):
    F = TensorProto.FLOAT
    b = rng.standard_normal(12).astype(np.float32)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
        helper.make_node("Gather", ["s", "i1"], ["d1"], axis=0),
        helper.make_node("Gather", ["s", "i2"], ["d2"], axis=0),
        helper.make_node("Mul", ["d1", "d2"], ["p"]),
        helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
        helper.make_node("Unsqueeze", ["p"], ["p1"], axes=[0]),
        helper.make_node("Concat", ["n1", "p1"], ["t"], axis=0),
        helper.make_node("Reshape", ["x", "t"], ["r"]),
        helper.make_node("Add", ["r", "b"], ["y"]),
    ]
    m = model(nodes, [vi("x", F, ["N", 3, 4])], [vi("y", F, ["N", 12])],
              [numpy_helper.from_array(b, "b"), i64("i0", 0), i64("i1", 1), i64("i2", 2)],
              opset=11)
    sets = []
    for n in (2, 5):
        x = rng.standard_normal((n, 3, 4)).astype(np.float32)
        sets.append(([x], [x.reshape(n, 12) + b]))
    save_case(out, "reshape_chain", m, sets)


def expand_chain(out, rng):
    F = TensorProto.FLOAT
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),                                # [2,3,4]
        helper.make_node("Slice", ["s", "b1", "e3"], ["tail"]),                 # [3,4]
        helper.make_node("Concat", ["one", "tail"], ["t"], axis=0),             # [1,3,4]
        helper.make_node("Equal", ["t", "one"], ["isone"]),                     # [T,F,F]
        helper.make_node("Where", ["isone", "two", "t"], ["t2"]),               # [2,3,4]
        helper.make_node("Expand", ["v", "t2"], ["ev"]),                        # v:[4] -> [2,3,4]
        helper.make_node("Cast", ["tail"], ["tail32"], to=TensorProto.INT32),
        helper.make_node("Cast", ["tail32"], ["tail64"], to=TensorProto.INT64),
        helper.make_node("ConstantOfShape", ["tail64"], ["ones"],
                         value=helper.make_tensor("v", F, [1], [1.5])),         # [3,4] of 1.5
        helper.make_node("Add", ["x", "ev"], ["a"]),
        helper.make_node("Mul", ["a", "ones"], ["y"]),
    ]
    v = rng.standard_normal(4).astype(np.float32)
    m = model(nodes, [vi("x", F, [2, 3, 4]), vi("v", F, [4])], [vi("y", F, [2, 3, 4])],
              [i64("b1", [1]), i64("e3", [3]), i64("one", [1]), i64("two", [2])])
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    save_case(out, "expand_chain", m, [([x, v], [(x + v) * np.float32(1.5)])])


def functions(out, rng):
    F = TensorProto.FLOAT
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    mvn = (x - mean) / (np.sqrt(var) + np.float32(1e-9))
    m = model([helper.make_node("MeanVarianceNormalization", ["x"], ["y"])],
              [vi("x", F, [2, 3, 4, 4])], [vi("y", F, [2, 3, 4, 4])])
    save_case(out, "mvn", m, [([x], [mvn.astype(np.float32)])])

    n = 10
    k = np.arange(n, dtype=np.float64)
    hann = np.sin(np.pi * k / n) ** 2  # periodic (the default)
    blackman = 0.42 - 0.5 * np.cos(2 * np.pi * k / (n - 1)) + 0.08 * np.cos(4 * np.pi * k / (n - 1))
    m = model([helper.make_node("HannWindow", ["size"], ["hann"]),
               helper.make_node("BlackmanWindow", ["size"], ["blackman"], periodic=0),
               helper.make_node("Mul", ["x", "hann"], ["y0"]),
               helper.make_node("Mul", ["x", "blackman"], ["y1"])],
              [vi("x", F, [n])], [vi("y0", F, [n]), vi("y1", F, [n])],
              [i64("size", n)], opset=17)
    xw = rng.standard_normal(n).astype(np.float32)
    save_case(out, "windows", m, [([xw], [(xw * hann).astype(np.float32),
                                          (xw * blackman).astype(np.float32)])])


def if_shape(out, rng):
    F = TensorProto.FLOAT
    tb = rng.standard_normal(3).astype(np.float32)
    then_g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["t1"]), helper.make_node("Add", ["t1", "tb"], ["t2"])],
        "then", [], [vi("t2", F, ["N", 3])], [numpy_helper.from_array(tb, "tb")])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e1"])], "else", [],
                               [vi("e1", F, ["N", 3])])
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
        helper.make_node("Equal", ["n", "two"], ["c"]),
        helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g),
    ]
    m = model(nodes, [vi("x", F, ["N", 3])], [vi("y", F, ["N", 3])],
              [i64("i0", 0), i64("two", 2)])
    x2 = rng.standard_normal((2, 3)).astype(np.float32)
    x4 = rng.standard_normal((4, 3)).astype(np.float32)
    save_case(out, "if_shape", m, [([x2], [np.maximum(x2, 0) + tb]), ([x4], [-x4])])


def sce(out, rng):
    F, I64 = TensorProto.FLOAT, TensorProto.INT64
    n, c, d = 3, 5, 2
    x = rng.standard_normal((n, c, d)).astype(np.float32)
    labels = np.array([[0, 4], [2, -1], [1, 3]], dtype=np.int64)
    weights = np.array([1.0, 0.5, 2.0, 1.5, 0.25], dtype=np.float32)
    # Reference: log-softmax over C, weighted NLL over the kept positions, mean by weight sum.
    logp = x - x.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    num = den = 0.0
    for i in range(n):
        for j in range(d):
            t = labels[i, j]
            if t == -1:
                continue
            num += -weights[t] * logp[i, t, j]
            den += weights[t]
    loss = np.array(num / den, dtype=np.float32)
    m = model([helper.make_node("SoftmaxCrossEntropyLoss", ["x", "t", "w"], ["loss", "logp"],
                                ignore_index=-1)],
              [vi("x", F, [n, c, d]), vi("t", I64, [n, d]), vi("w", F, [c])],
              [vi("loss", F, []), vi("logp", F, [n, c, d])])
    save_case(out, "sce", m, [([x, labels, weights], [loss, logp.astype(np.float32)])])


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    reshape_chain(out, rng)
    expand_chain(out, rng)
    functions(out, rng)
    if_shape(out, rng)
    sce(out, rng)


if __name__ == "__main__":
    main()
