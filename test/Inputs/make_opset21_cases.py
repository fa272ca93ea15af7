"""Models of default-domain opsets 18 to 21, which this onnx package (1.12) does not know, for
test/Driver/opset21.test: int4/uint4 QDQ weights in blocks (onnxruntime's MatMul 4-bit QDQ form)
and int8 per column at opset 21, a blocked int4 DequantizeLinear and int4/uint4 QuantizeLinear
computed elementwise, and opset 18's new forms (ReduceMean with an axes input, Split with
num_outputs, Pad with axes, Mish, the bitwise operators, DFT-20's axis input,
GroupNormalization-18 and -21). Expected outputs
are computed here with numpy from the dequantized codes; 4-bit tensors are packed by hand (two
per byte, first in the low nibble, as the ONNX IR specifies)."""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import model, save_case, vi

out = sys.argv[1]
rng = np.random.default_rng(21)
INT4, UINT4 = 22, 21


def four_bit_tensor(name, codes, signed):
    """A TensorProto of int4 (signed) or uint4 codes, packed two per byte in raw_data."""
    flat = (codes.astype(np.int64).ravel() & 0xF).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    t = TensorProto()
    t.name = name
    t.data_type = INT4 if signed else UINT4
    t.dims.extend(codes.shape)
    t.raw_data = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()
    return t


def model21(nodes, inputs, outputs, inits=(), opset=21):
    m = model(nodes, inputs, outputs, inits, opset=opset)
    m.ir_version = 10 if opset >= 21 else 8
    return m


def save(name, m, datasets):
    save_case(out, name, m, datasets, check=False)


def blocked_matmul(name, k, n, block, signed, zero_point, a_shape):
    lo, hi = (-8, 7) if signed else (0, 15)
    groups = (k + block - 1) // block
    w = rng.integers(lo, hi + 1, size=(k, n))
    scale = rng.uniform(0.01, 0.05, size=(groups, n)).astype(np.float32)
    inits = [four_bit_tensor("w", w, signed), numpy_helper.from_array(scale, "w_scale")]
    dq_in = ["w", "w_scale"]
    zp = np.zeros((groups, n), dtype=np.int64)
    if zero_point:
        zp = rng.integers(lo, hi + 1, size=(groups, n))
        inits.append(four_bit_tensor("w_zp", zp, signed))
        dq_in.append("w_zp")
    nodes = [helper.make_node("DequantizeLinear", dq_in, ["wd"], name="dq", axis=0,
                              block_size=block),
             helper.make_node("MatMul", ["a", "wd"], ["y"], name="mm")]
    wd = (w - np.repeat(zp, block, axis=0)[:k]) * np.repeat(scale.astype(np.float64), block,
                                                             axis=0)[:k]
    a = rng.standard_normal(a_shape).astype(np.float32)
    y = (a.astype(np.float64) @ wd).astype(np.float32)
    m = model21(nodes, [vi("a", TensorProto.FLOAT, list(a_shape))],
                [vi("y", TensorProto.FLOAT, list(y.shape))], inits)
    save(name, m, [([a], [y])])


blocked_matmul("int4_blocked_asym", 128, 48, 32, True, True, (3, 128))
blocked_matmul("uint4_blocked_ragged", 100, 24, 16, False, True, (2, 100))
blocked_matmul("int4_blocked_sym", 64, 40, 32, True, False, (5, 64))

# int8 per output column at opset 21 (DequantizeLinear-21).
w8 = rng.integers(-128, 128, size=(96, 32)).astype(np.int8)
s8 = rng.uniform(0.001, 0.02, size=(32,)).astype(np.float32)
a8 = rng.standard_normal((4, 96)).astype(np.float32)
y8 = (a8.astype(np.float64) @ (w8.astype(np.float64) * s8)).astype(np.float32)
save("int8_per_axis_opset21", model21(
    [helper.make_node("DequantizeLinear", ["w", "w_scale"], ["wd"], name="dq", axis=1),
     helper.make_node("MatMul", ["a", "wd"], ["y"], name="mm")],
    [vi("a", TensorProto.FLOAT, [4, 96])], [vi("y", TensorProto.FLOAT, [4, 32])],
    [numpy_helper.from_array(w8, "w"), numpy_helper.from_array(s8, "w_scale")]), [([a8], [y8])])

# A blocked int4 DequantizeLinear computed elementwise (its result is added, not multiplied).
wq = rng.integers(-8, 8, size=(6, 10))
sq = rng.uniform(0.1, 1.0, size=(6, 3)).astype(np.float32)
zq = rng.integers(-8, 8, size=(6, 3))
xq = rng.standard_normal((6, 10)).astype(np.float32)
yq = ((wq - np.repeat(zq, 4, axis=1)[:, :10]) * np.repeat(sq.astype(np.float64), 4, axis=1)[:, :10]
      + xq).astype(np.float32)
save("dq_int4_blocked_elementwise", model21(
    [helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zp"], ["wd"], name="dq", axis=1,
                      block_size=4),
     helper.make_node("Add", ["wd", "x"], ["y"], name="add")],
    [vi("x", TensorProto.FLOAT, [6, 10])], [vi("y", TensorProto.FLOAT, [6, 10])],
    [four_bit_tensor("w", wq, True), numpy_helper.from_array(sq, "w_scale"),
     four_bit_tensor("w_zp", zq, True)]), [([xq], [yq])])

# QuantizeLinear to int4 (per tensor) and to uint4 (blocked), each dequantized again: the
# rounding (half to even) and the saturation to the 4-bit ranges.
xa = (rng.standard_normal((3, 8)) * 2).astype(np.float32)
xa[0, :4] = [0.25, 0.75, -0.25, 40.0]  # ties at scale 0.5, and far out of range
s_a = np.array(0.5, dtype=np.float32)
z_a = np.array([-1])
qa = np.clip(np.round(xa.astype(np.float64) / 0.5) + z_a[0], -8, 7)
ya = ((qa - z_a[0]) * 0.5).astype(np.float32)
s_b = rng.uniform(0.2, 0.6, size=(3, 4)).astype(np.float32)
z_b = rng.integers(0, 16, size=(3, 4))
sb_full = np.repeat(s_b.astype(np.float64), 2, axis=1)
zb_full = np.repeat(z_b, 2, axis=1)
qb = np.clip(np.round(xa.astype(np.float64) / sb_full) + zb_full, 0, 15)
yb = ((qb - zb_full) * sb_full).astype(np.float32)
z_a_t = four_bit_tensor("z_a", z_a.reshape(()), True)
save("q_int4_roundtrip", model21(
    [helper.make_node("QuantizeLinear", ["x", "s_a", "z_a"], ["qa"], name="qa"),
     helper.make_node("DequantizeLinear", ["qa", "s_a", "z_a"], ["ya"], name="dqa"),
     helper.make_node("QuantizeLinear", ["x", "s_b", "z_b"], ["qb"], name="qb", axis=1,
                      block_size=2),
     helper.make_node("DequantizeLinear", ["qb", "s_b", "z_b"], ["yb"], name="dqb", axis=1,
                      block_size=2)],
    [vi("x", TensorProto.FLOAT, [3, 8])],
    [vi("ya", TensorProto.FLOAT, [3, 8]), vi("yb", TensorProto.FLOAT, [3, 8])],
    [numpy_helper.from_array(s_a, "s_a"), z_a_t, numpy_helper.from_array(s_b, "s_b"),
     four_bit_tensor("z_b", z_b, False)]), [([xa], [ya, yb])])

# Opset 18's new forms.
x = rng.standard_normal((2, 7, 6)).astype(np.float32)
i = rng.integers(-1000, 1000, size=(5,)).astype(np.int32)
j = rng.integers(-1000, 1000, size=(5,)).astype(np.int32)
i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
nodes = [
    helper.make_node("ReduceMean", ["x", "axes"], ["mean"], name="mean", keepdims=1),
    helper.make_node("Split", ["x"], ["s0", "s1", "s2"], name="split", axis=1, num_outputs=3),
    helper.make_node("Pad", ["x", "pads", "", "pad_axes"], ["padded"], name="pad"),
    helper.make_node("Mish", ["x"], ["mish"], name="mish"),
    helper.make_node("BitwiseAnd", ["i", "j"], ["band"], name="band"),
    helper.make_node("BitwiseXor", ["i", "j"], ["bxor"], name="bxor"),
    helper.make_node("BitwiseNot", ["i"], ["bnot"], name="bnot"),
]
mean = x.astype(np.float64).mean(axis=2, keepdims=True).astype(np.float32)
padded = np.pad(x, ((0, 0), (0, 0), (1, 2)))
mish = (x.astype(np.float64) * np.tanh(np.log1p(np.exp(x.astype(np.float64))))).astype(np.float32)
outs = [mean, x[:, 0:3], x[:, 3:6], x[:, 6:7], padded, mish, i & j, i ^ j, ~i]
names = ["mean", "s0", "s1", "s2", "padded", "mish", "band", "bxor", "bnot"]
save("opset18_forms", model21(
    nodes, [vi("x", TensorProto.FLOAT, [2, 7, 6]), vi("i", TensorProto.INT32, [5]),
            vi("j", TensorProto.INT32, [5])],
    [vi(n, TensorProto.INT32 if n.startswith("b") else TensorProto.FLOAT, list(o.shape))
     for n, o in zip(names, outs)],
    [i64("axes", [2]), i64("pads", [1, 2]), i64("pad_axes", [-1])], opset=18),
    [([x, i, j], outs)])

# DFT-20: the axis is an input (here 1 of a [2, 8, 4, 1] real signal), onesided.
sig = rng.standard_normal((2, 8, 4, 1)).astype(np.float32)
spec = np.fft.rfft(sig[..., 0].astype(np.float64), axis=1)
spec = np.stack([spec.real, spec.imag], axis=-1).astype(np.float32)
save("dft20_axis_input", model21(
    [helper.make_node("DFT", ["sig", "", "axis"], ["spec"], name="dft", onesided=1)],
    [vi("sig", TensorProto.FLOAT, [2, 8, 4, 1])], [vi("spec", TensorProto.FLOAT, [2, 5, 4, 2])],
    [i64("axis", 1)], opset=20), [([sig], [spec])])

# GroupNormalization: scale and bias per group (opset 18), per channel (opset 21).
def group_norm(x, groups, scale, bias, eps):
    n, c = x.shape[:2]
    g = x.astype(np.float64).reshape(n, groups, -1)
    y = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if scale.size == groups:
        scale, bias = np.repeat(scale, c // groups), np.repeat(bias, c // groups)
    return (y * scale.reshape(shape) + bias.reshape(shape)).astype(np.float32)


xg = (rng.standard_normal((2, 6, 3, 4)) * 3 + 1).astype(np.float32)
for opset, size in ((18, 3), (21, 6)):
    sc = rng.uniform(0.5, 2.0, size=(size,)).astype(np.float32)
    bi = rng.standard_normal(size).astype(np.float32)
    save(f"group_norm{opset}", model21(
        [helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], name="gn",
                          num_groups=3, epsilon=1e-3)],
        [vi("x", TensorProto.FLOAT, [2, 6, 3, 4])], [vi("y", TensorProto.FLOAT, [2, 6, 3, 4])],
        [numpy_helper.from_array(sc, "scale"), numpy_helper.from_array(bi, "bias")],
        opset=opset), [([xg], [group_norm(xg, 3, sc, bi, 1e-3)])])

# Refusals.
save("col2im18", model21(
    [helper.make_node("Col2Im", ["x", "image", "block"], ["y"], name="c2i")],
    [vi("x", TensorProto.FLOAT, [1, 4, 9])], [vi("y", TensorProto.FLOAT, None)],
    [i64("image", [4, 4]), i64("block", [2, 2])], opset=18), [])
save("opset22", model21([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                        [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])],
                        opset=22), [])
save("int4_input", model21(
    [helper.make_node("DequantizeLinear", ["q", "s"], ["y"], name="dq")],
    [vi("q", INT4, [4])], [vi("y", TensorProto.FLOAT, [4])],
    [numpy_helper.from_array(np.array(0.5, dtype=np.float32), "s")]), [])
short = four_bit_tensor("w", np.zeros((3, 3), dtype=np.int64), True)
short.raw_data = short.raw_data[:-1]  # 9 codes need 5 bytes
save("int4_truncated", model21(
    [helper.make_node("DequantizeLinear", ["w", "s"], ["wd"], name="dq"),
     helper.make_node("MatMul", ["a", "wd"], ["y"], name="mm")],
    [vi("a", TensorProto.FLOAT, [1, 3])], [vi("y", TensorProto.FLOAT, [1, 3])],
    [short, numpy_helper.from_array(np.array(0.5, dtype=np.float32), "s")]), [])
