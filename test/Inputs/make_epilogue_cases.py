#!/usr/bin/env python3
"""Writes end-to-end cases whose ReLU and residual add sparq folds into the micro-kernels
(sparq-cpu-select-ukernels epilogues), with expected outputs computed here by numpy in float64,
in the ONNX backend-test layout.

Usage: make_epilogue_cases.py OUT_DIR

bottleneck/  y = Relu(Conv3x3(Relu(Conv1x1(x) + b1)) + b2 + x)   (residual add, then ReLU)
dwblock/     y = Relu(DepthwiseConv3x3(x) + b)                   (depthwise, stride 2)
gemm_relu/   y = Relu(Gemm(x, W, b)) + x @ V                       (Gemm + ReLU; a MatMul whose
                                                                     result is added to it)
conv_dw/     y = DepthwiseConv3x3(Relu(Conv1x1(x) + b1), pad 1) + b2 (the 1x1 convolution writes
                                                                     straight into the padded
                                                                     buffer, row by row)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv(x, w, b, stride=1, pad=0, groups=1):
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, f, oh, ow))
    fg = f // groups
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, i:i + stride * (oh - 1) + 1:stride,
                           j:j + stride * (ow - 1) + 1:stride]
                y[:, g * fg:(g + 1) * fg] += np.einsum("nchw,fc->nfhw", patch,
                                                       w[g * fg:(g + 1) * fg, :, i, j])
    return y + b.reshape(1, f, 1, 1)


def save(out, name, nodes, inputs, outputs, inits):
    g = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in outputs],
        [numpy_helper.from_array(a.astype(np.float32), n) for n, a in inits])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    d = os.path.join(out, name, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(out, name, "model.onnx"))
    for kind, arrays in (("input", inputs), ("output", outputs)):
        for i, (_, a) in enumerate(arrays):
            with open(os.path.join(d, f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a.astype(np.float32)).SerializeToString())


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(5)
    f = lambda *s: rng.uniform(-1, 1, s).astype(np.float32)

    x, w1, b1, w2, b2 = f(1, 12, 9, 11), f(20, 12, 1, 1), f(20), f(12, 20, 3, 3), f(12)
    h = np.maximum(conv(x, w1, b1), 0)
    y = np.maximum(conv(h, w2, b2, pad=1) + x, 0)
    save(out, "bottleneck",
         [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"]),
          helper.make_node("Relu", ["c1"], ["h"]),
          helper.make_node("Conv", ["h", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
          helper.make_node("Add", ["c2", "x"], ["s"]),
          helper.make_node("Relu", ["s"], ["y"])],
         [("x", x)], [("y", y)], [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)])

    x, w, b = f(2, 24, 15, 21), f(24, 1, 3, 3), f(24)
    y = np.maximum(conv(x, w, b, stride=2, pad=1, groups=24), 0)
    save(out, "dwblock",
         [helper.make_node("Conv", ["x", "w", "b"], ["c"], group=24, strides=[2, 2],
                           pads=[1, 1, 1, 1]),
          helper.make_node("Relu", ["c"], ["y"])],
         [("x", x)], [("y", y)], [("w", w), ("b", b)])

    x, w1, b1, w2, b2 = f(1, 6, 11, 37), f(21, 6, 1, 1), f(21), f(21, 1, 3, 3), f(21)
    h = np.maximum(conv(x, w1, b1), 0)
    y = conv(h, w2, b2, pad=1, groups=21)
    save(out, "conv_dw",
         [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"]),
          helper.make_node("Relu", ["c1"], ["h"]),
          helper.make_node("Conv", ["h", "w2", "b2"], ["y"], group=21, pads=[1, 1, 1, 1])],
         [("x", x)], [("y", y)], [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)])

    x, w, b, v = f(5, 70), f(37, 70), f(37), f(70, 37)
    xd = x.astype(np.float64)
    y = np.maximum(xd @ w.astype(np.float64).T + b, 0) + xd @ v.astype(np.float64)
    save(out, "gemm_relu",
         [helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
          helper.make_node("Relu", ["g"], ["r"]),
          helper.make_node("MatMul", ["x", "v"], ["m"]),
          helper.make_node("Add", ["r", "m"], ["y"])],
         [("x", x)], [("y", y)], [("w", w), ("b", b), ("v", v)])


if __name__ == "__main__":
    main()
