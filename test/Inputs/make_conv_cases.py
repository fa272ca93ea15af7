#!/usr/bin/env python3
"""Writes NCHW Conv cases for the convolution micro-kernel, with expected outputs computed here by
numpy in float64 (shifted-window sums, independent of sparq), in the backend-test layout.

Usage: make_conv_cases.py OUT_DIR

Each case is NAME: batch, in channels, H, W, out channels, kernel, stride, pad, dilation, groups;
sizes are chosen so output pixels and channels are not multiples of any register tile. Cases with
groups == channels are depthwise convolutions (the depthwise kernel).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = {
    "k3": (1, 5, 9, 11, 7, 3, 1, 1, 1, 1),
    "k3_stride2_batch2": (2, 6, 13, 10, 9, 3, 2, 1, 1, 1),
    "k1": (1, 24, 10, 13, 40, 1, 1, 0, 1, 1),
    "k1_stride2": (1, 16, 7, 7, 20, 1, 2, 0, 1, 1),
    "k3_dilation2": (1, 3, 12, 12, 5, 3, 1, 2, 2, 1),
    "k7_stride2_batch2": (2, 3, 17, 17, 10, 7, 2, 3, 1, 1),
    "one_pixel": (1, 8, 1, 1, 3, 1, 1, 0, 1, 1),
    "k3_wide": (1, 32, 20, 37, 33, 3, 1, 1, 1, 1),
    "dw3": (1, 19, 21, 35, 19, 3, 1, 1, 1, 19),
    "dw3_stride2_batch2": (2, 8, 15, 40, 8, 3, 2, 1, 1, 8),
    "dw5_dilation2": (1, 4, 16, 18, 4, 5, 1, 4, 2, 4),
    "dw5_stride2_dilation2": (1, 5, 11, 71, 5, 5, 2, 4, 2, 5),
}


def conv_ref(x, w, b, stride, pad, dil, groups):
    if groups > 1:
        cg, fg = x.shape[1] // groups, w.shape[0] // groups
        return np.concatenate([
            conv_ref(x[:, g * cg:(g + 1) * cg], w[g * fg:(g + 1) * fg], b[g * fg:(g + 1) * fg],
                     stride, pad, dil, 1) for g in range(groups)], axis=1)
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).astype(np.float64)
    oh = (h + 2 * pad - dil * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * pad - dil * (kw - 1) - 1) // stride + 1
    y = np.zeros((n, f, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dil:i * dil + stride * (oh - 1) + 1:stride,
                       j * dil:j * dil + stride * (ow - 1) + 1:stride]
            y += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j].astype(np.float64))
    return y + b.reshape(1, f, 1, 1)


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    for name, (n, c, h, wd, f, k, stride, pad, dil, groups) in CASES.items():
        w = rng.standard_normal((f, c // groups, k, k)).astype(np.float32)
        b = rng.standard_normal(f).astype(np.float32)
        x = rng.standard_normal((n, c, h, wd)).astype(np.float32)
        y = conv_ref(x, w, b, stride, pad, dil, groups).astype(np.float32)
        node = helper.make_node("Conv", ["x", "W", "B"], ["y"], kernel_shape=[k, k],
                                strides=[stride] * 2, pads=[pad] * 4, dilations=[dil] * 2,
                                group=groups)
        g = helper.make_graph(
            [node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
            [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        onnx.checker.check_model(model)
        d = os.path.join(out, name, "test_data_set_0")
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(out, name, "model.onnx"))
        for kind, a in (("input_0", x), ("output_0", y)):
            with open(os.path.join(d, kind + ".pb"), "wb") as fh:
                fh.write(numpy_helper.from_array(a).SerializeToString())
    conv1d_cases(out, rng)


def conv1d_ref(x, w, b, stride, pad, dil, groups):
    """A 1-D convolution as the 2-D reference over rows of height 1 (padded along W only)."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    return conv_ref(x[:, :, None, :], w[:, :, None, :], b, stride, 0, dil, groups)[:, :, 0, :]


# 1-D convolutions (run as 2-D ones of height 1 on the convolution kernels) and filters computed
# at run time (packed at each call): NAME: batch, channels, W, out channels, kernel, stride, pad,
# dilation, groups, filter ("const", "input": a model input, "dequant": Cast(int8) * scale +
# zero_point in the graph, as Moonshine's encoder writes its convolutions).
CASES_1D = {
    "conv1d_k31_stride16": (1, 1, 700, 12, 31, 16, 0, 1, 1, "const"),
    "conv1d_k7_dilation2_batch2": (2, 10, 53, 9, 7, 3, 2, 2, 1, "const"),
    "conv1d_depthwise": (1, 6, 40, 6, 5, 1, 2, 1, 6, "const"),
    "conv1d_dequant_filter": (1, 20, 61, 17, 3, 2, 0, 1, 1, "dequant"),
    "conv2d_input_filter": (1, 5, 9, 11, 7, 3, 1, 1, 1, "input"),
}


def conv1d_cases(out, rng):
    for name, (n, c, wd, f, k, stride, pad, dil, groups, filt) in CASES_1D.items():
        two_d = name.startswith("conv2d")
        kshape = (f, c // groups) + ((k, k) if two_d else (k,))
        x = rng.standard_normal((n, c) + ((wd, wd) if two_d else (wd,))).astype(np.float32)
        b = rng.standard_normal(f).astype(np.float32)
        inits, nodes, inputs, feeds = [numpy_helper.from_array(b, "B")], [], [], [x]
        if filt == "dequant":
            q = rng.integers(-128, 128, size=kshape).astype(np.int8)
            scale, zp = np.float32(0.02), np.float32(-0.14)
            w = (q.astype(np.float32) * scale + zp).astype(np.float32)
            inits += [numpy_helper.from_array(q, "Wq"),
                      numpy_helper.from_array(np.array([scale]), "Ws"),
                      numpy_helper.from_array(np.array([zp]), "Wz")]
            nodes += [helper.make_node("Cast", ["Wq"], ["Wf"], to=TensorProto.FLOAT),
                      helper.make_node("Mul", ["Wf", "Ws"], ["Wm"]),
                      helper.make_node("Add", ["Wm", "Wz"], ["W"])]
        else:
            w = rng.standard_normal(kshape).astype(np.float32)
            if filt == "input":
                feeds.append(w)
            else:
                inits.append(numpy_helper.from_array(w, "W"))
        if two_d:
            y = conv_ref(x, w, b, stride, pad, dil, groups).astype(np.float32)
        else:
            y = conv1d_ref(x, w, b, stride, pad, dil, groups).astype(np.float32)
        dims = 2 if two_d else 1
        nodes.append(helper.make_node("Conv", ["x", "W", "B"], ["y"], kernel_shape=[k] * dims,
                                      strides=[stride] * dims, pads=[pad] * (2 * dims),
                                      dilations=[dil] * dims, group=groups))
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))]
        if filt == "input":
            inputs.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, list(w.shape)))
        g = helper.make_graph(
            nodes, name, inputs,
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))], inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        onnx.checker.check_model(model)
        d = os.path.join(out, name, "test_data_set_0")
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(out, name, "model.onnx"))
        for i, a in enumerate(feeds):
            with open(os.path.join(d, f"input_{i}.pb"), "wb") as fh:
                fh.write(numpy_helper.from_array(a).SerializeToString())
        with open(os.path.join(d, "output_0.pb"), "wb") as fh:
            fh.write(numpy_helper.from_array(y).SerializeToString())


if __name__ == "__main__":
    main()
