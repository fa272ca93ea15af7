#!/usr/bin/env python3
"""Writes models with symbolic dimensions in the ONNX backend-test layout, one data set per run
shape, with expected outputs computed here by numpy (an independent reference).

Usage: make_dynamic_cases.py OUT_DIR

mlp_batch/  x[N,64] -> MatMul 64x128 -> Add -> Relu -> MatMul 128x16: data sets at N = 1, 3, 8
seq3d/      x[B,S,32] -> MatMul 32x48 (+ bias): data sets at (B,S) = (1,5), (2,3), (3,128)
cnn_dyn/    x[N,3,H,W] -> Conv 3x3 pad 1 (+ bias) -> Relu -> MaxPool 2x2/2 ceil_mode ->
            AveragePool 3x3/2 SAME_UPPER (padding not counted) -> GlobalAveragePool ->
            Reshape to [N, -1] (target from Shape/Slice/Concat) -> Gemm 8x5 (+ C) ->
            LayerNormalization: data sets at (N,H,W) = (1,8,8), (2,13,11), (3,5,17)
attn_dyn/   q, k, v [B,S,16] -> softmax(q kT / 4) v (MatMul of two activations): (B,S) = (1,3),
            (2,7)
reshape_rt/ x[N,6], shape[2] -> Reshape(x, shape) with the target read at run time: N = 2 with
            shape (3, 4) and (-1, 2) (good); bad_shape/ holds (4, 4) for the error test
bcast_rt/   a[A,B], b[C,D] -> Add, Mul by c[E], every dim symbolic: (2,3)+(2,3) and c of 3
            (equal sizes run); bcast_one/ holds (2,3)+(1,3), a dynamic dim that is 1 at run time,
            and bad_bcast/ (2,3)+(3,3): both run-time errors (docs/importer.md)
expand_rt/  Expand(x[A,B], shape[3]) with the shape read at run time: (3,1) to (2,3,4), (1,1) to
            (1,2,1), (2,5) to (4,1,5); bad_expand/ holds (3,2) to (2,3,4) for the error test
expand_decl/ the same with a declared output [A,4]: (2,1) to (2,4) runs; bad_decl/ holds (2,3) to
            (2,3), which the declared 4 contradicts (an error, not a read past the input)
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import save_case, vi


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(11)
    F = TensorProto.FLOAT
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

    # cnn_dyn: reference loops written out in numpy.
    def conv(x, w, b, pad):
        n, c, h, wd = x.shape
        f, _, kh, kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
        y = np.zeros((n, f, oh, ow), np.float64)
        for i in range(kh):
            for j in range(kw):
                y += np.einsum("nchw,fc->nfhw", xp[:, :, i:i + oh, j:j + ow], w[:, :, i, j])
        return y + b[None, :, None, None]

    def pool(x, k, s, pads, out, op):
        """Window op over [n, c, h, w]; pads (top, left); out (oh, ow); cells outside skipped."""
        n, c, h, wd = x.shape
        y = np.zeros((n, c) + out, np.float64)
        for i in range(out[0]):
            for j in range(out[1]):
                r0, c0 = i * s - pads[0], j * s - pads[1]
                win = x[:, :, max(r0, 0):min(r0 + k, h), max(c0, 0):min(c0 + k, wd)]
                y[:, :, i, j] = op(win, axis=(2, 3))
        return y

    cw = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
    cb = rng.standard_normal(8).astype(np.float32) * 0.1
    gw = rng.standard_normal((8, 5)).astype(np.float32)
    gc = rng.standard_normal(5).astype(np.float32)
    ls = rng.standard_normal(5).astype(np.float32)
    lb = rng.standard_normal(5).astype(np.float32)
    I64 = TensorProto.INT64
    nodes = [
        helper.make_node("Conv", ["x", "cw", "cb"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["m"], kernel_shape=[2, 2], strides=[2, 2],
                         ceil_mode=1),
        helper.make_node("AveragePool", ["m"], ["a"], kernel_shape=[3, 3], strides=[2, 2],
                         auto_pad="SAME_UPPER"),
        helper.make_node("GlobalAveragePool", ["a"], ["g"]),
        helper.make_node("Shape", ["g"], ["gs"]),
        helper.make_node("Slice", ["gs", "zero", "one"], ["n"]),
        helper.make_node("Concat", ["n", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["g", "target"], ["flat"]),
        helper.make_node("Gemm", ["flat", "gw", "gc"], ["z"]),
        helper.make_node("LayerNormalization", ["z", "ls", "lb"], ["y"], axis=-1),
    ]
    inits = [arr(cw, "cw"), arr(cb, "cb"), arr(gw, "gw"), arr(gc, "gc"), arr(ls, "ls"),
             arr(lb, "lb"), arr(np.array([0], np.int64), "zero"),
             arr(np.array([1], np.int64), "one"), arr(np.array([-1], np.int64), "minus1")]
    g = helper.make_graph(nodes, "cnn", [vi("x", F, ["N", 3, "H", "W"])],
                          [vi("y", F, ["N", 5])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    sets = []
    for n, h, w_ in ((1, 8, 8), (2, 13, 11), (3, 5, 17)):
        x = rng.standard_normal((n, 3, h, w_)).astype(np.float32)
        r = np.maximum(conv(x.astype(np.float64), cw, cb, 1), 0)
        # MaxPool 2x2/2 with ceil_mode: ceil((h - 2) / 2) + 1 rows, the last may overhang.
        mo = tuple(-(-(d - 2) // 2) + 1 for d in r.shape[2:])
        mp = pool(r, 2, 2, (0, 0), mo, np.max)
        # AveragePool 3x3/2 SAME_UPPER: ceil(d / 2) outputs, padding split with the odd one at
        # the end; padded cells are not counted.
        ao = tuple(-(-d // 2) for d in mp.shape[2:])
        lo = tuple(max((o - 1) * 2 + 3 - d, 0) // 2 for o, d in zip(ao, mp.shape[2:]))
        ap = pool(mp, 3, 2, lo, ao, np.mean)
        z = ap.mean(axis=(2, 3)) @ gw + gc
        mu = z.mean(axis=-1, keepdims=True)
        var = ((z - mu) ** 2).mean(axis=-1, keepdims=True)
        y = (z - mu) / np.sqrt(var + 1e-5) * ls + lb
        sets.append(([x], [y.astype(np.float32)]))
    save_case(out, "cnn_dyn", m, sets)

    # attn_dyn: attention over a run-time sequence length.
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Mul", ["s", "scale"], ["ss"]),
        helper.make_node("Softmax", ["ss"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["y"]),
    ]
    g = helper.make_graph(nodes, "attn", [vi(t, F, ["B", "S", 16]) for t in "qkv"],
                          [vi("y", F, ["B", "S", 16])],
                          [arr(np.array(0.25, np.float32), "scale")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    sets = []
    for bs, sl in ((1, 3), (2, 7)):
        q, k, v = (rng.standard_normal((bs, sl, 16)).astype(np.float32) for _ in range(3))
        sc = q.astype(np.float64) @ k.transpose(0, 2, 1) * 0.25
        p = np.exp(sc - sc.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        sets.append(([q, k, v], [(p @ v).astype(np.float32)]))
    save_case(out, "attn_dyn", m, sets)

    # reshape_rt: the target is a graph input, read at run time.
    g = helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"])], "reshape",
                          [vi("x", F, ["N", 6]), vi("shape", I64, [2])],
                          [vi("y", F, ["A", "B"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    x = rng.standard_normal((2, 6)).astype(np.float32)
    sets = [([x, np.array(t, np.int64)], [x.reshape(t)]) for t in ((3, 4), (-1, 2))]
    save_case(out, "reshape_rt", m, sets)
    save_case(out, "bad_shape", m, [([x, np.array((4, 4), np.int64)], [x.reshape(3, 4)])])

    # bcast_rt: every dim symbolic, so whether one broadcasts is known at run time only.
    g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["s"]),
                           helper.make_node("Mul", ["s", "c"], ["y"])], "bcast",
                          [vi("a", F, ["A", "B"]), vi("b", F, ["C", "D"]), vi("c", F, ["E"])],
                          [vi("y", F, ["P", "Q"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    sets = []
    for sa, sb, sc in (((2, 3), (2, 3), (3,)), ((5, 4), (5, 4), (4,))):
        a, b, c = (rng.standard_normal(sh).astype(np.float32) for sh in (sa, sb, sc))
        sets.append(([a, b, c], [(a + b) * c]))
    save_case(out, "bcast_rt", m, sets)
    a, b, c = (rng.standard_normal(sh).astype(np.float32) for sh in ((2, 3), (1, 3), (3,)))
    save_case(out, "bcast_one", m, [([a, b, c], [(a + b) * c])])
    a, b, c = (rng.standard_normal(sh).astype(np.float32) for sh in ((2, 3), (3, 3), (3,)))
    save_case(out, "bad_bcast", m, [([a, b, c], [np.zeros((2, 3), np.float32)])])

    # expand_rt: the target shape is a graph input.
    g = helper.make_graph([helper.make_node("Expand", ["x", "shape"], ["y"])], "expand",
                          [vi("x", F, ["A", "B"]), vi("shape", I64, [3])],
                          [vi("y", F, ["P", "Q", "R"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    sets = []
    for sx, sh in (((3, 1), (2, 3, 4)), ((1, 1), (1, 2, 1)), ((2, 5), (4, 1, 5))):
        x = rng.standard_normal(sx).astype(np.float32)
        sets.append(([x, np.array(sh, np.int64)], [x * np.ones(sh, np.float32)]))
    save_case(out, "expand_rt", m, sets)
    x = rng.standard_normal((3, 2)).astype(np.float32)
    save_case(out, "bad_expand", m, [([x, np.array((2, 3, 4), np.int64)],
                                      [np.zeros((2, 3, 4), np.float32)])])

    # expand_decl: a static result dim declared by the model, checked against the shape.
    g = helper.make_graph([helper.make_node("Expand", ["x", "shape"], ["y"])], "expand_decl",
                          [vi("x", F, ["A", "B"]), vi("shape", I64, [2])],
                          [vi("y", F, ["A", 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    x = rng.standard_normal((2, 1)).astype(np.float32)
    save_case(out, "expand_decl", m, [([x, np.array((2, 4), np.int64)],
                                       [x * np.ones((2, 4), np.float32)])])
    x = rng.standard_normal((2, 3)).astype(np.float32)
    save_case(out, "bad_decl", m, [([x, np.array((2, 3), np.int64)],
                                    [np.zeros((2, 4), np.float32)])])


if __name__ == "__main__":
    main()
