#!/usr/bin/env python3
"""Generates the bundled example model test/models/tinycnn/ and its reference data.

tinycnn: Conv(3->8, 3x3, pad 1) -> Relu -> MaxPool(2) -> Conv(8->16, 3x3, stride 2, pad 1)
         -> Relu -> GlobalAveragePool -> Flatten -> Gemm(16->10) -> Softmax
Input 'image' float32[1,3,32,32], output 'probs' float32[1,10]. Weights are drawn with a fixed seed.
The expected output in test_data_set_0 is computed here with plain numpy loops, independently
of sparq.

Usage: make_tinycnn.py OUT_DIR   (the checked-in copy lives in test/models/tinycnn)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv2d(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, f, oh, ow), dtype=np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return y + b.reshape(1, f, 1, 1)


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(20261122)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((16, 8, 3, 3)) * 0.2).astype(np.float32)
    b2 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    wf = (rng.standard_normal((10, 16)) * 0.5).astype(np.float32)
    bf = (rng.standard_normal(10) * 0.1).astype(np.float32)
    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)

    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (wf, "wf"), (bf, "bf"))]
    graph = helper.make_graph(
        nodes, "tinycnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="sparq test/models/make_tinycnn.py")
    onnx.checker.check_model(model)

    # Independent reference in float64.
    r1 = np.maximum(conv2d(x.astype(np.float64), w1, b1, 1, 1), 0)
    r2 = np.maximum(conv2d(maxpool2(r1), w2, b2, 2, 1), 0)
    g = r2.mean(axis=(2, 3))
    logits = g @ wf.T.astype(np.float64) + bf
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    for name, arr in (("input_0.pb", x), ("output_0.pb", probs)):
        t = numpy_helper.from_array(arr, "image" if name.startswith("input") else "probs")
        with open(os.path.join(out, "test_data_set_0", name), "wb") as f:
            f.write(t.SerializeToString())


if __name__ == "__main__":
    main()
