#!/usr/bin/env python3
"""Writes single-node cases for TopK, ConvInteger, QLinearConv, QLinearMatMul, LRN, Shrink,
ReverseSequence, MaxUnpool and Det, beyond the ONNX backend tests' shapes (ties, groups, per-channel
zero points and scales, broadcast batches, pivoting, pads), in the backend-test layout. Expected
outputs are computed here with numpy from the ONNX operator definitions, independently of sparq.

Usage: make_more_ops_cases.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(11)
NP_TO_ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.int32): TensorProto.INT32, np.dtype(np.uint8): TensorProto.UINT8,
              np.dtype(np.int8): TensorProto.INT8, np.dtype(np.float64): TensorProto.DOUBLE}


def write_case(out, name, op, inputs, outputs, opset, inits=(), **attrs):
    """inputs / outputs: lists of (name, array); an input named '' is an absent optional one;
    inits: (name, array) constants appended to the node's inputs as initializers."""
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    node = helper.make_node(op, [n for n, _ in inputs] + [n for n, _ in inits],
                            [n for n, _ in outputs], **attrs)
    vi = lambda n, a: helper.make_tensor_value_info(n, NP_TO_ONNX[a.dtype], a.shape)
    graph = helper.make_graph([node], name, [vi(n, a) for n, a in inputs if n],
                              [vi(n, a) for n, a in outputs],
                              [numpy_helper.from_array(a, n) for n, a in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, arrays in (("input", [x for x in inputs if x[0]]), ("output", outputs)):
        for i, (n, a) in enumerate(arrays):
            t = numpy_helper.from_array(a, n)
            with open(os.path.join(d, "test_data_set_0", f"{kind}_{i}.pb"), "wb") as f:
                f.write(t.SerializeToString())


def topk_ref(x, k, axis, largest):
    key = -x.astype(np.float64) if largest else x.astype(np.float64)
    idx = np.argsort(key, axis=axis, kind="stable")  # ties: the lower index first
    idx = np.take(idx, np.arange(k), axis=axis)
    return np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)


def conv_int_ref(x, w, stride, pad, groups):
    """x, w int64 (zero points already subtracted); 2-D, symmetric pads."""
    if groups > 1:
        cg, fg = x.shape[1] // groups, w.shape[0] // groups
        return np.concatenate([conv_int_ref(x[:, g * cg:(g + 1) * cg], w[g * fg:(g + 1) * fg],
                                            stride, pad, 1) for g in range(groups)], axis=1)
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, f, oh, ow), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            y += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    return y


def requant(acc, mult, zp, dtype):
    info = np.iinfo(dtype)
    r = np.rint(acc.astype(np.float32) * mult) + zp.astype(np.float32)  # rint: half to even
    return np.clip(r, info.min, info.max).astype(dtype)


def main():
    out = sys.argv[1]
    f32 = np.float32

    # TopK: ties (small integer-valued floats), largest and smallest, k as input / attribute.
    x = RNG.integers(-3, 4, (3, 9, 4)).astype(f32)
    v, i = topk_ref(x, 5, 1, True)
    write_case(out, "topk_ties_largest", "TopK", [("x", x), ("k", np.array([5], np.int64))],
               [("values", v), ("indices", i)], 11, axis=1)
    v, i = topk_ref(x, 4, 2, False)
    write_case(out, "topk_ties_smallest", "TopK", [("x", x), ("k", np.array([4], np.int64))],
               [("values", v), ("indices", i)], 11, axis=-1, largest=0)
    xi = RNG.integers(-50, 50, (2, 17)).astype(np.int32)
    v, i = topk_ref(xi, 6, 1, True)
    write_case(out, "topk_int32_k_attr", "TopK", [("x", xi)], [("values", v), ("indices", i)], 1,
               k=6)

    # ConvInteger: groups, padding, stride, per-output-channel weight zero point.
    x = RNG.integers(0, 256, (2, 4, 7, 6)).astype(np.uint8)
    w = RNG.integers(-128, 128, (6, 2, 3, 3)).astype(np.int8)
    xzp = np.array(131, np.uint8)
    wzp = RNG.integers(-5, 5, 6).astype(np.int8)
    y = conv_int_ref(x.astype(np.int64) - 131, w.astype(np.int64) - wzp.reshape(6, 1, 1, 1), 2, 1,
                     2).astype(np.int32)
    write_case(out, "convinteger_groups", "ConvInteger",
               [("x", x), ("w", w), ("x_zero_point", xzp), ("w_zero_point", wzp)], [("y", y)], 10,
               group=2, pads=[1, 1, 1, 1], strides=[2, 2])

    # QLinearConv: per-channel weight scale and zero point, int32 bias, int8 output.
    x = RNG.integers(0, 256, (1, 3, 6, 6)).astype(np.uint8)
    w = RNG.integers(0, 256, (4, 3, 3, 3)).astype(np.uint8)
    xs, xz = np.array(0.02, f32), np.array(128, np.uint8)
    ws = (RNG.random(4) * 0.02 + 0.005).astype(f32)
    wz = RNG.integers(120, 136, 4).astype(np.uint8)
    ys, yz = np.array(0.5, f32), np.array(-3, np.int8)
    bias = RNG.integers(-2000, 2000, 4).astype(np.int32)
    acc = conv_int_ref(x.astype(np.int64) - 128, w.astype(np.int64) - wz.reshape(4, 1, 1, 1), 1, 1,
                       1) + bias.reshape(1, 4, 1, 1)
    mult = ((xs * ws) / ys).astype(f32).reshape(1, 4, 1, 1)
    y = requant(acc, mult, yz, np.int8)
    write_case(out, "qlinearconv_per_channel", "QLinearConv",
               [("x", x), ("x_scale", xs), ("x_zero_point", xz), ("w", w), ("w_scale", ws),
                ("w_zero_point", wz), ("y_scale", ys), ("y_zero_point", yz), ("B", bias)],
               [("y", y)], 10, pads=[1, 1, 1, 1])

    # QLinearMatMul: broadcast batch, per-row scale/zero point of A and y, per-column of B.
    a = RNG.integers(-128, 128, (2, 1, 3, 5)).astype(np.int8)
    b = RNG.integers(-128, 128, (4, 5, 6)).astype(np.int8)
    as_ = (RNG.random(3) * 0.05 + 0.01).astype(f32)
    az = RNG.integers(-3, 3, 3).astype(np.int8)
    bs = (RNG.random(6) * 0.05 + 0.01).astype(f32)
    bz = RNG.integers(-3, 3, 6).astype(np.int8)
    ys, yz = np.array([0.3], f32), np.array([10], np.int8)
    acc = np.matmul(a.astype(np.int64) - az.reshape(3, 1), b.astype(np.int64) - bz)
    mult = ((as_.reshape(3, 1) * bs) / ys).astype(f32)
    y = requant(acc, mult, yz, np.int8)
    write_case(out, "qlinearmatmul_broadcast", "QLinearMatMul",
               [("a", a), ("a_scale", as_), ("a_zero_point", az), ("b", b), ("b_scale", bs),
                ("b_zero_point", bz), ("y_scale", ys), ("y_zero_point", yz)], [("y", y)], 10)

    # LRN with an even window (asymmetric: one more channel above).
    x = RNG.standard_normal((2, 7, 3, 4)).astype(f32)
    size, alpha, beta, bias_ = 4, 0.3, 0.6, 1.5
    sq = np.zeros(x.shape)
    for c in range(7):
        lo, hi = max(0, c - (size - 1) // 2), min(6, c + size - 1 - (size - 1) // 2)
        sq[:, c] = (x[:, lo:hi + 1].astype(np.float64) ** 2).sum(axis=1)
    y = (x / (bias_ + alpha / size * sq) ** beta).astype(f32)
    write_case(out, "lrn_even", "LRN", [("x", x)], [("y", y)], 13, size=size, alpha=alpha,
               beta=beta, bias=bias_)

    # Shrink on integers.
    x = np.arange(-6, 7, dtype=np.int32)
    y = np.where(x < -2.5, x + 1.5, np.where(x > 2.5, x - 1.5, 0)).astype(np.int32)
    write_case(out, "shrink_int32", "Shrink", [("x", x)], [("y", y)], 9, lambd=2.5, bias=1.5)

    # ReverseSequence on a 3-D tensor (time-major), lengths 0..T.
    x = RNG.standard_normal((5, 4, 3)).astype(f32)
    lens = np.array([5, 0, 3, 1], np.int64)
    y = x.copy()
    for bi, L in enumerate(lens):
        y[:L, bi] = x[:L, bi][::-1]
    write_case(out, "reversesequence_3d", "ReverseSequence", [("x", x), ("sequence_lens", lens)],
               [("y", y)], 10, batch_axis=1, time_axis=0)

    # MaxUnpool with pads (indices from a padded 3x3 / stride-2 max pool over 2 channels).
    x = RNG.standard_normal((1, 2, 3, 3)).astype(f32)
    oh = (3 - 1) * 2 + 3 - 2  # (in - 1) * stride + kernel - pads
    idx = np.zeros((1, 2, 3, 3), np.int64)
    for c in range(2):
        cells = RNG.permutation(oh * oh)[:9]
        idx[0, c] = (c * oh * oh + cells).reshape(3, 3)
    y = np.zeros(2 * oh * oh, f32)
    y[idx.reshape(-1)] = x.reshape(-1)
    write_case(out, "maxunpool_pads", "MaxUnpool", [("xT", x), ("xI", idx)],
               [("y", y.reshape(1, 2, oh, oh))], 11, kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])

    # Transposes that swap two trailing groups of dims (NCHW -> NHWC and back: one batched 2-D
    # transpose kernel call each), channel and pixel counts off the vector width.
    x = RNG.standard_normal((2, 19, 5, 7)).astype(f32)
    write_case(out, "transpose_to_nhwc", "Transpose", [("x", x)],
               [("y", np.transpose(x, (0, 2, 3, 1)))], 13, perm=[0, 2, 3, 1])
    x = RNG.standard_normal((2, 5, 7, 19)).astype(f32)
    write_case(out, "transpose_to_nchw", "Transpose", [("x", x)],
               [("y", np.transpose(x, (0, 3, 1, 2)))], 13, perm=[0, 3, 1, 2])

    # Det: a batch of 5x5 matrices needing row swaps (zero leading pivots), one singular.
    m = RNG.standard_normal((2, 3, 5, 5))
    m[0, 0, 0, 0] = 0.0
    m[0, 1, :, 0] = [0.0, 0.0, 0.0, 2.0, -1.0]
    m[1, 2, 4] = m[1, 2, 1] * 2.0  # singular
    m = m.astype(f32)
    y = np.linalg.det(m.astype(np.float64)).astype(f32)
    y[1, 2] = 0.0
    write_case(out, "det_pivoting", "Det", [("x", m)], [("y", y)], 11)

    # DFT against numpy's FFT: a real f32 signal zero-padded to dft_length 9, one-sided; a complex
    # f64 signal transformed back (inverse) along a middle axis.
    x = RNG.standard_normal((2, 7, 3, 1)).astype(f32)
    f = np.fft.rfft(x[..., 0].astype(np.float64), n=9, axis=1)
    write_case(out, "dft_onesided_padded", "DFT", [("x", x)],
               [("y", np.stack([f.real, f.imag], -1).astype(f32))], 17,
               inits=[("len", np.array(9, np.int64))], axis=1, onesided=1)
    z = RNG.standard_normal((2, 3, 6, 2))
    g = np.fft.ifft(z[..., 0] + 1j * z[..., 1], axis=2)
    write_case(out, "dft_inverse_complex", "DFT", [("x", z)],
               [("y", np.stack([g.real, g.imag], -1))], 17, axis=2, inverse=1)


if __name__ == "__main__":
    main()
