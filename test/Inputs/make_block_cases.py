#!/usr/bin/env python3
"""Writes convolution blocks for sparq-block-fusion (residual bottlenecks, a projection shortcut,
inverted residuals, a chain without a skip), with expected outputs computed here by numpy in
float64 (make_conv_cases.conv_ref, independent of sparq), in the backend-test layout.

Usage: make_block_cases.py OUT_DIR

Image sizes are odd and not multiples of the tile heights sparq picks, so the last row tile of
each block is shorter than the others; strides, a batch of two and a dilated 5x5 depthwise
convolution are covered.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conv_cases import conv_ref  # noqa: E402


class Block:
    def __init__(self, name, rng, x):
        self.name, self.rng, self.x = name, rng, x
        self.nodes, self.inits, self.count = [], [], 0

    def conv(self, src, ref, cout, k, stride=1, dil=1, groups=1, act=None):
        """Conv (with bias) then an optional activation ('relu' or 'relu6', as Clip)."""
        self.count += 1
        tag = f"c{self.count}"
        cin = ref.shape[1]
        w = (self.rng.standard_normal((cout, cin // groups, k, k)) /
             np.sqrt(cin // groups * k * k)).astype(np.float32)
        b = (0.1 * self.rng.standard_normal(cout)).astype(np.float32)
        pad = dil * (k // 2)
        self.inits += [numpy_helper.from_array(w, tag + "_w"), numpy_helper.from_array(b, tag + "_b")]
        self.nodes.append(helper.make_node("Conv", [src, tag + "_w", tag + "_b"], [tag],
                                           kernel_shape=[k, k], strides=[stride] * 2,
                                           pads=[pad] * 4, dilations=[dil] * 2, group=groups))
        y = conv_ref(ref, w, b, stride, pad, dil, groups)
        if act == "relu":
            self.nodes.append(helper.make_node("Relu", [tag], [tag + "_a"]))
            return tag + "_a", np.maximum(y, 0)
        if act == "relu6":
            lo = numpy_helper.from_array(np.array(0, np.float32), tag + "_lo")
            hi = numpy_helper.from_array(np.array(6, np.float32), tag + "_hi")
            self.inits += [lo, hi]
            self.nodes.append(helper.make_node("Clip", [tag, tag + "_lo", tag + "_hi"], [tag + "_a"]))
            return tag + "_a", np.clip(y, 0, 6)
        return tag, y

    def add(self, a, ra, b, rb, relu=False):
        self.nodes.append(helper.make_node("Add", [a, b], ["sum"]))
        if not relu:
            return "sum", ra + rb
        self.nodes.append(helper.make_node("Relu", ["sum"], ["sum_a"]))
        return "sum_a", np.maximum(ra + rb, 0)

    def save(self, out, y_name, y):
        self.nodes.append(helper.make_node("Identity", [y_name], ["y"]))
        g = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(self.x.shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))], self.inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        onnx.checker.check_model(model)
        d = os.path.join(out, self.name, "test_data_set_0")
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(out, self.name, "model.onnx"))
        for kind, a in (("input_0", self.x), ("output_0", y.astype(np.float32))):
            with open(os.path.join(d, kind + ".pb"), "wb") as fh:
                fh.write(numpy_helper.from_array(a).SerializeToString())


def bottleneck_odd(b):
    h, r = b.conv("x", b.x, 8, 1, act="relu")
    h, r = b.conv(h, r, 8, 3, act="relu")
    h, r = b.conv(h, r, 12, 1)
    return b.add(h, r, "x", b.x, relu=True)


def projection_stride2_batch2(b):
    h, r = b.conv("x", b.x, 5, 1, act="relu")
    h, r = b.conv(h, r, 5, 3, stride=2, act="relu")
    h, r = b.conv(h, r, 10, 1)
    s, rs = b.conv("x", b.x, 10, 1, stride=2)
    return b.add(h, r, s, rs, relu=True)


def inverted_odd(b):
    h, r = b.conv("x", b.x, 24, 1, act="relu")
    h, r = b.conv(h, r, 24, 3, groups=24, act="relu")
    h, r = b.conv(h, r, 8, 1)
    return b.add(h, r, "x", b.x)


def inverted_stride2_chain(b):
    h, r = b.conv("x", b.x, 16, 1, act="relu6")
    h, r = b.conv(h, r, 16, 3, stride=2, groups=16, act="relu6")
    return b.conv(h, r, 12, 1)


def dw5_dilated_residual(b):
    h, r = b.conv("x", b.x, 12, 1, act="relu")
    h, r = b.conv(h, r, 12, 5, dil=2, groups=12)
    h, r = b.conv(h, r, 6, 1)
    return b.add(h, r, "x", b.x)


CASES = {
    "bottleneck_odd": (bottleneck_odd, (1, 12, 13, 11)),
    "projection_stride2_batch2": (projection_stride2_batch2, (2, 6, 15, 9)),
    "inverted_odd": (inverted_odd, (1, 8, 17, 19)),
    "inverted_stride2_chain": (inverted_stride2_chain, (1, 8, 21, 14)),
    "dw5_dilated_residual": (dw5_dilated_residual, (1, 6, 16, 18)),
}


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(11)
    for name, (build, shape) in CASES.items():
        b = Block(name, rng, rng.standard_normal(shape).astype(np.float32))
        y_name, y = build(b)
        b.save(out, y_name, y)


if __name__ == "__main__":
    main()
