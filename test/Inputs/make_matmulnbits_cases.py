#!/usr/bin/env python3
"""Writes onnxruntime com.microsoft.MatMulNBits models in the ONNX backend-test layout
(model.onnx + test_data_set_0/{input_0,output_0}.pb), with expected outputs computed here by
numpy from the dequantized weights (an independent reference: codes unpacked from the packed
bytes, (code - zero_point) * scale per block, then A @ W^T + bias).

Usage: make_matmulnbits_cases.py OUT_DIR [--big]

Cases (A is [M, K] unless noted, blocks along K, codes packed low bits first):
w4/         4 bits, block 32, no zero points (default 8), K = 64, N = 24
w4_zp/      4 bits, block 32, packed uint8 zero points [N, ceil(k_blocks/2)]
w4_fzp/     4 bits, block 16, float zero points [N * k_blocks] (integral values)
w2/         2 bits, block 32, packed zero points, 2-D scales [N, k_blocks]
w3/         3 bits, block 16, packed zero points (codes straddle bytes)
w8/         8 bits, block 32, no zero points (default 128)
w8_acc4/    the same with accuracy_level 4
k_pad/      4 bits, block 32, K = 80 (the last block holds 16 values; the padding codes of B
            and of the zero points are set to non-zero garbage that must be ignored)
batch/      4 bits, block 32, A [2, 3, K], bias [N], the output feeds a Relu with no value_info
            (its type must be inferred)
acc4/       4 bits, block 32, accuracy_level 4 (int8 activations allowed), packed zero points
gidx/       4 bits, block 32, a g_idx input equal to k / block_size (the trivial grouping)
multi/      w4 ... gidx and batch side by side in one model (inputs a0..a8, outputs y0..y8)
multi_acc4/ acc4 and w8_acc4 side by side
fp32/       the float32 MatMul of the w4-like weight of shape K = N = 512, and
nbits512/   the same weight as MatMulNBits 4 bits block 32: the artifact size comparison
Rejected forms (error tests; no test data):
bad_gidx/   a g_idx that is not k / block_size
bad_fzp/    float zero points that are not integers
bad_b/      B is a graph input, not an initializer
bad_bits/   bits = 1
bad_shape/  B's shape does not match K, N, bits and block_size
--big writes big/: 4096 x 4096, 4 bits, block 32 (and big_fp32/), without test data.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS = "com.microsoft"


def pack_codes(codes, bits):
    """Packs the last axis of `codes` (uint, < 2^bits) as a little-endian bit stream per row."""
    *lead, n = codes.shape
    nbytes = (n * bits + 7) // 8
    flat = codes.reshape(-1, n).astype(np.uint64)
    out = np.zeros((flat.shape[0], nbytes), dtype=np.uint8)
    for i in range(n):
        for b in range(bits):
            pos = i * bits + b
            out[:, pos // 8] |= (((flat[:, i] >> np.uint64(b)) & np.uint64(1)).astype(np.uint8)
                                 << np.uint8(pos % 8))
    return out.reshape(*lead, nbytes)


def unpack_codes(packed, bits, n):
    """Inverse of pack_codes, written independently: bit j of the row is byte j//8, bit j%8."""
    *lead, nbytes = packed.shape
    bitsarr = np.unpackbits(packed.reshape(-1, nbytes), axis=1, bitorder="little")
    bitsarr = bitsarr[:, :n * bits].reshape(-1, n, bits).astype(np.int64)
    codes = (bitsarr << np.arange(bits)).sum(axis=2)
    return codes.reshape(*lead, n)


class Case:
    """One MatMulNBits node: quantized weight data and the numpy reference."""

    def __init__(self, seed, k, n, bits, block, zp="none", scales_2d=False, bias=False,
                 pad_garbage=False):
        rng = np.random.default_rng(seed)
        self.k, self.n, self.bits, self.block = k, n, bits, block
        self.kb = (k + block - 1) // block
        kpad = self.kb * block
        maxc = (1 << bits) - 1
        codes = rng.integers(0, maxc + 1, size=(n, kpad)).astype(np.int64)
        if not pad_garbage:
            codes[:, k:] = 0
        else:
            codes[:, k:] = maxc  # must be ignored
        self.scales = (rng.uniform(0.5, 1.5, size=(n, self.kb)) / (maxc * np.sqrt(k))).astype(
            np.float32)
        self.zp_kind = zp
        if zp == "none":
            self.zps = np.full((n, self.kb), 1 << (bits - 1), dtype=np.int64)
        else:
            self.zps = rng.integers(0, maxc + 1, size=(n, self.kb)).astype(np.int64)
        # B: [N, k_blocks, blob], each block its own bit stream.
        self.b = pack_codes(codes.reshape(n, self.kb, block), bits)
        assert self.b.shape == (n, self.kb, block * bits // 8)
        if zp == "packed":
            zcodes = self.zps.copy()
            zbytes = (self.kb * bits + 7) // 8
            if pad_garbage and zbytes * 8 // bits > self.kb:
                # garbage in the unused high codes of the last byte
                extra = zbytes * 8 // bits - self.kb
                zcodes = np.concatenate([zcodes, np.full((n, extra), maxc)], axis=1)
            self.zp_tensor = pack_codes(zcodes, bits)[:, :zbytes]
        elif zp == "float":
            self.zp_tensor = self.zps.astype(np.float32).reshape(-1)
        else:
            self.zp_tensor = None
        self.scales_tensor = self.scales if scales_2d else self.scales.reshape(-1)
        self.bias = (rng.standard_normal(n) * 0.1).astype(np.float32) if bias else None
        # Reference: decode the packed bytes (not `codes`), dequantize per block.
        dec = unpack_codes(self.b, bits, block).reshape(n, kpad)[:, :k]
        blk = np.arange(k) // block
        self.w = ((dec - self.zps[:, blk]) * self.scales[:, blk].astype(np.float64))

    def reference(self, a):
        y = a.astype(np.float64) @ self.w.T
        if self.bias is not None:
            y = y + self.bias
        return y.astype(np.float32)

    def node(self, x, y, name, g_idx=None, accuracy_level=None, bits_attr=None):
        """The node and its initializers."""
        inits = [numpy_helper.from_array(self.b, name + "_B"),
                 numpy_helper.from_array(self.scales_tensor, name + "_scales")]
        ins = [x, name + "_B", name + "_scales"]
        opt = []
        if self.zp_tensor is not None:
            inits.append(numpy_helper.from_array(self.zp_tensor, name + "_zp"))
            opt.append(name + "_zp")
        else:
            opt.append("")
        if g_idx is not None:
            inits.append(numpy_helper.from_array(g_idx.astype(np.int32), name + "_gidx"))
            opt.append(name + "_gidx")
        else:
            opt.append("")
        if self.bias is not None:
            inits.append(numpy_helper.from_array(self.bias, name + "_bias"))
            opt.append(name + "_bias")
        else:
            opt.append("")
        while opt and opt[-1] == "":
            opt.pop()
        attrs = dict(K=self.k, N=self.n, bits=self.bits if bits_attr is None else bits_attr,
                     block_size=self.block)
        if accuracy_level is not None:
            attrs["accuracy_level"] = accuracy_level
        node = helper.make_node("MatMulNBits", ins + opt, [y], name=name, domain=MS, **attrs)
        return node, inits


def make_model(nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                               helper.make_opsetid(MS, 1)])


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def save(out, name, model, data=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    if data is None:
        return
    ins, outs = data
    ds = os.path.join(d, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    for kind, arrays in (("input", ins), ("output", outs)):
        for i, a in enumerate(arrays):
            with open(os.path.join(ds, f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a).SerializeToString())


class Multi:
    """Several cases side by side in one model (one compile for the lit test): input i feeds
    case i, output i is its result."""

    def __init__(self):
        self.nodes, self.inputs, self.outputs, self.inits = [], [], [], []
        self.a, self.y = [], []

    def add(self, nodes, inits, a, y):
        self.nodes += nodes
        self.inits += inits
        self.inputs.append(vi(f"a{len(self.a)}", list(a.shape)))
        self.outputs.append(vi(f"y{len(self.y)}", list(y.shape)))
        self.a.append(a)
        self.y.append(y)

    def save(self, out, name):
        save(out, name, make_model(self.nodes, self.inputs, self.outputs, self.inits),
             (self.a, self.y))


def simple(out, name, case, m=3, seed=0, multi=None, **node_kw):
    """A [m, K] input straight into one MatMulNBits node, its output the graph output; also
    added to `multi`."""
    a = np.random.default_rng(seed + 1000).standard_normal((m, case.k)).astype(np.float32)
    node, inits = case.node("a", "y", name, **node_kw)
    model = make_model([node], [vi("a", [m, case.k])], [vi("y", [m, case.n])], inits)
    save(out, name, model, ([a], [case.reference(a)]))
    if multi is not None:
        i = len(multi.a)
        node, inits = case.node(f"a{i}", f"y{i}", name, **node_kw)
        multi.add([node], inits, a, case.reference(a))


def main():
    out = sys.argv[1]
    multi, acc4 = Multi(), Multi()
    simple(out, "w4", Case(1, 64, 24, 4, 32), multi=multi)
    simple(out, "w4_zp", Case(2, 64, 24, 4, 32, zp="packed"), multi=multi)
    simple(out, "w4_fzp", Case(3, 64, 24, 4, 16, zp="float"), multi=multi)
    simple(out, "w2", Case(4, 64, 24, 2, 32, zp="packed", scales_2d=True), multi=multi)
    simple(out, "w3", Case(5, 64, 24, 3, 16, zp="packed"), multi=multi)
    simple(out, "w8", Case(6, 64, 24, 8, 32), multi=multi)
    simple(out, "k_pad", Case(7, 80, 24, 4, 32, zp="packed", pad_garbage=True), multi=multi)
    simple(out, "gidx", Case(9, 64, 24, 4, 32), multi=multi, g_idx=np.arange(64) // 32)
    simple(out, "acc4", Case(8, 128, 32, 4, 32, zp="packed"), m=4, multi=acc4, accuracy_level=4)
    simple(out, "w8_acc4", Case(6, 64, 24, 8, 32), multi=acc4, accuracy_level=4)
    acc4.save(out, "multi_acc4")

    # [2, 3, K] input, bias, output consumed by a Relu; the MatMulNBits result has no value_info.
    c = Case(10, 64, 16, 4, 32, zp="packed", bias=True)
    a = np.random.default_rng(11).standard_normal((2, 3, 64)).astype(np.float32)
    node, inits = c.node("a", "mm", "batch")
    model = make_model([node, helper.make_node("Relu", ["mm"], ["y"], name="relu")],
                       [vi("a", [2, 3, 64])], [vi("y", [2, 3, 16])], inits)
    save(out, "batch", model, ([a], [np.maximum(c.reference(a), 0)]))
    i = len(multi.a)
    node, inits = c.node(f"a{i}", f"mm{i}", "batch")
    multi.add([node, helper.make_node("Relu", [f"mm{i}"], [f"y{i}"], name="relu")], inits, a,
              np.maximum(c.reference(a), 0))
    multi.save(out, "multi")

    # Size comparison: the same 512 x 512 weight dense (float32 MatMul) and packed.
    c = Case(12, 512, 512, 4, 32)
    a = np.random.default_rng(13).standard_normal((1, 512)).astype(np.float32)
    w = numpy_helper.from_array(c.w.T.astype(np.float32), "w")  # MatMul B is [K, N]
    model = make_model([helper.make_node("MatMul", ["a", "w"], ["y"], name="mm")],
                       [vi("a", [1, 512])], [vi("y", [1, 512])], [w])
    save(out, "fp32", model, ([a], [c.reference(a)]))
    simple(out, "nbits512", c, m=1, seed=12)

    # Rejected forms.
    c = Case(14, 64, 8, 4, 32)
    for name, kw in (("bad_gidx", dict(g_idx=np.arange(64) % 2)),
                     ("bad_bits", dict(bits_attr=1))):
        node, inits = c.node("a", "y", name, **kw)
        save(out, name, make_model([node], [vi("a", [2, 64])], [vi("y", [2, 8])], inits))
    c = Case(15, 64, 8, 4, 32, zp="float")
    c.zp_tensor = c.zp_tensor + np.float32(0.5)
    node, inits = c.node("a", "y", "bad_fzp")
    save(out, "bad_fzp", make_model([node], [vi("a", [2, 64])], [vi("y", [2, 8])], inits))
    c = Case(16, 64, 8, 4, 32)
    node, inits = c.node("a", "y", "bad_b")
    inits = [t for t in inits if t.name != "bad_b_B"]
    save(out, "bad_b", make_model(
        [node], [vi("a", [2, 64]), helper.make_tensor_value_info(
            "bad_b_B", TensorProto.UINT8, list(c.b.shape))], [vi("y", [2, 8])], inits))
    c = Case(17, 64, 8, 4, 32)
    c.b = np.concatenate([c.b, c.b[:, :1]], axis=1)  # one block too many
    node, inits = c.node("a", "y", "bad_shape")
    save(out, "bad_shape", make_model([node], [vi("a", [2, 64])], [vi("y", [2, 8])], inits))

    if "--big" in sys.argv[2:]:
        c = Case(20, 4096, 4096, 4, 32)
        node, inits = c.node("a", "y", "big")
        save(out, "big", make_model([node], [vi("a", [1, 4096])], [vi("y", [1, 4096])], inits))
        w = numpy_helper.from_array(c.w.T.astype(np.float32), "w")
        save(out, "big_fp32", make_model(
            [helper.make_node("MatMul", ["a", "w"], ["y"], name="mm")],
            [vi("a", [1, 4096])], [vi("y", [1, 4096])], [w]))


if __name__ == "__main__":
    main()
