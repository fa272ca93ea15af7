"""QDQ-quantized MatMul and Conv weights (DequantizeLinear of an integer initializer feeding
MatMul's B or Conv's W, as onnxruntime's quantization tools write them) for
test/Driver/qdq_weights.test. Expected outputs are numpy products and a plain convolution loop
with the weights dequantized here: (W - zero_point) * scale."""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import model, save_case, vi

out = sys.argv[1]
rng = np.random.default_rng(7)


def case(name, k, n, wtype, per_axis, zp_kind, a_shape, inits_extra=()):
    lo, hi, np_t, onnx_t = {"int8": (-128, 127, np.int8, TensorProto.INT8),
                            "uint8": (0, 255, np.uint8, TensorProto.UINT8)}[wtype]
    w = rng.integers(lo, hi + 1, size=(k, n)).astype(np_t)
    shape = [n] if per_axis else []
    scale = rng.uniform(0.001, 0.02, size=shape).astype(np.float32)
    if zp_kind == "none":
        zp = None
    elif zp_kind == "mid":  # symmetric: 0 for int8, 128 for uint8
        zp = np.full(shape, 0 if wtype == "int8" else 128, dtype=np_t)
    else:
        zp = rng.integers(lo, hi + 1, size=shape).astype(np_t)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(scale, "w_scale")]
    dq_in = ["w", "w_scale"]
    if zp is not None:
        inits.append(numpy_helper.from_array(zp, "w_zp"))
        dq_in.append("w_zp")
    attrs = {"axis": 1} if per_axis else {}
    nodes = [helper.make_node("DequantizeLinear", dq_in, ["wd"], name="dq", **attrs),
             helper.make_node("MatMul", ["a", "wd"], ["y"], name="mm")]
    y_shape = list(a_shape[:-1]) + [n]
    m = model(nodes, [vi("a", TensorProto.FLOAT, list(a_shape))],
              [vi("y", TensorProto.FLOAT, y_shape)], inits)
    a = rng.standard_normal(a_shape).astype(np.float32)
    wd = (w.astype(np.float64) - (0 if zp is None else zp.astype(np.float64))) * scale
    y = (a.astype(np.float64) @ wd).astype(np.float32)
    save_case(out, name, m, [([a], [y])])


case("int8_per_axis_sym", 256, 96, "int8", True, "mid", (3, 256))
case("int8_per_axis_asym", 192, 64, "int8", True, "random", (2, 5, 192))
case("uint8_per_tensor_asym", 128, 48, "uint8", False, "random", (4, 128))
case("uint8_per_tensor_mid", 64, 40, "uint8", False, "mid", (64,))
case("uint8_no_zero_point", 96, 32, "uint8", True, "none", (2, 96))


def conv_ref(x, w, b, strides, dilations, pads):
    """Direct 2-D convolution (NCHW, group 1), pads = [top, left, bottom, right]."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    y = np.zeros((n, f, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dilations[0]:i * dilations[0] + strides[0] * (oh - 1) + 1:strides[0],
                       j * dilations[1]:j * dilations[1] + strides[1] * (ow - 1) + 1:strides[1]]
            y += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    return y + (0 if b is None else b.reshape(1, -1, 1, 1))


def conv_case(name, x_shape, w_shape, wtype, per_axis, zp_kind, bias, attrs, pads):
    lo, hi, np_t = {"int8": (-128, 127, np.int8), "uint8": (0, 255, np.uint8)}[wtype]
    f = w_shape[0]
    w = rng.integers(lo, hi + 1, size=w_shape).astype(np_t)
    shape = [f] if per_axis else []
    scale = rng.uniform(0.002, 0.02, size=shape).astype(np.float32)
    zp = (np.full(shape, 0 if wtype == "int8" else 128, dtype=np_t) if zp_kind == "mid"
          else rng.integers(lo, hi + 1, size=shape).astype(np_t))
    b = rng.standard_normal(f).astype(np.float32) if bias else None
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(scale, "w_scale"),
             numpy_helper.from_array(zp, "w_zp")]
    conv_in = ["x", "wd"]
    if bias:
        inits.append(numpy_helper.from_array(b, "b"))
        conv_in.append("b")
    dq_attrs = {"axis": 0} if per_axis else {}
    nodes = [helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zp"], ["wd"], name="dq",
                              **dq_attrs),
             helper.make_node("Conv", conv_in, ["y"], name="conv", **attrs)]
    x = rng.standard_normal(x_shape).astype(np.float32)
    wd = (w.astype(np.float64) - zp.astype(np.float64).reshape(-1, 1, 1, 1)
          if per_axis else w.astype(np.float64) - float(zp)) * \
        (scale.reshape(-1, 1, 1, 1) if per_axis else scale)
    y = conv_ref(x.astype(np.float64), wd, b, attrs.get("strides", [1, 1]),
                 attrs.get("dilations", [1, 1]), pads).astype(np.float32)
    m = model(nodes, [vi("x", TensorProto.FLOAT, list(x_shape))],
              [vi("y", TensorProto.FLOAT, list(y.shape))], inits)
    save_case(out, name, m, [([x], [y])])


conv_case("conv_int8_per_channel", (1, 8, 9, 10), (16, 8, 3, 3), "int8", True, "mid", True,
          {"strides": [2, 1], "pads": [1, 0, 1, 2]}, [1, 0, 1, 2])
conv_case("conv_uint8_per_tensor_same", (2, 5, 7, 7), (6, 5, 3, 2), "uint8", False, "random",
          False, {"auto_pad": "SAME_UPPER", "dilations": [1, 2]}, [1, 1, 1, 1])


def mmi_case(name, a_shape, n, atype, btype, za_kind, zb_kind, a_low=None, b_low=None,
             other_shapes=(), b_high=None):
    """MatMulInteger(A, B, a_zero_point, b_zero_point) with B and its zero point initializers
    (onnxruntime's dynamic quantization: A from DynamicQuantizeLinear at run time). za_kind /
    zb_kind: "none", "scalar", "per_row" (A) / "per_column" (B). The expected int32 output is
    the exact integer product, computed here in int64. a_low / b_low raise the lowest value
    drawn for A / B, b_high lowers B's highest; other_shapes add data sets (test_data_set_1, ...) of other shapes of A for
    an artifact compiled with dynamic rows."""
    rng_t = {"int8": (-128, 127, np.int8, TensorProto.INT8),
             "uint8": (0, 255, np.uint8, TensorProto.UINT8)}
    alo, ahi, a_np, a_onnx = rng_t[atype]
    blo, bhi, b_np, _ = rng_t[btype]
    k = a_shape[-1]
    b = rng.integers(blo if b_low is None else b_low, (bhi if b_high is None else b_high) + 1,
                     size=(k, n)).astype(b_np)
    inputs = [vi("a", a_onnx, list(a_shape))]
    inits = [numpy_helper.from_array(b, "b")]
    mm_in = ["a", "b", "", ""]
    if za_kind != "none":
        za_shape = [] if za_kind == "scalar" else [a_shape[-2]]
        inputs.append(vi("a_zp", a_onnx, za_shape))
        mm_in[2] = "a_zp"

    def activations(shape):
        """A of `shape` and its zero point: the feeds and A - za in int64."""
        a = rng.integers(alo if a_low is None else a_low, ahi + 1, size=shape).astype(a_np)
        if za_kind == "none":
            return [a], a.astype(np.int64)
        za_v = rng.integers(alo, ahi + 1,
                            size=[] if za_kind == "scalar" else [shape[-2]]).astype(a_np)
        za = za_v.astype(np.int64) if za_kind == "scalar" else \
            za_v.astype(np.int64).reshape(-1, 1)
        return [a, za_v], a.astype(np.int64) - za
    zb = np.zeros(()).astype(np.int64)
    if zb_kind != "none":
        zb_shape = [] if zb_kind == "scalar" else [n]
        zb_v = rng.integers(blo, bhi + 1, size=zb_shape).astype(b_np)
        inits.append(numpy_helper.from_array(zb_v, "b_zp"))
        mm_in[3] = "b_zp"
        zb = zb_v.astype(np.int64)
    while mm_in and mm_in[-1] == "":
        mm_in.pop()
    datasets = []
    for shape in (a_shape,) + tuple(other_shapes):
        feeds, a_centered = activations(shape)
        datasets.append((feeds, [(a_centered @ (b.astype(np.int64) - zb)).astype(np.int32)]))
    nodes = [helper.make_node("MatMulInteger", mm_in, ["y"], name="mmi")]
    # Other shapes: the output's leading dims symbolic, as an exporter with dynamic axes writes.
    y_shape = ([f"d{i}" for i in range(len(a_shape) - 1)] if other_shapes
               else list(a_shape[:-1])) + [n]
    m = model(nodes, inputs, [vi("y", TensorProto.INT32, y_shape)], inits)
    save_case(out, name, m, datasets)


# Moonshine's form: uint8 A with a run-time scalar zero point, uint8 B with a scalar one.
mmi_case("mmi_uint8_scalar_zp", (2, 5, 288), 96, "uint8", "uint8", "scalar", "scalar",
         other_shapes=[(2, 9, 288)])
# int8 A with a zero point per row, int8 B with one per column.
mmi_case("mmi_int8_per_row_column", (4, 64), 40, "int8", "int8", "per_row", "per_column")
# No zero points, a vector A.
mmi_case("mmi_vector_no_zp", (100,), 24, "uint8", "int8", "none", "none")
# K past the int8 GEMM's 4096 (the exact product on the stored codes), B small enough for the
# 2^24 bound (255 * 4500 * 6).
mmi_case("mmi_long_k", (3, 4500), 40, "uint8", "int8", "scalar", "none", b_low=-6, b_high=6)
# Sums beyond 2^24 (about 1024 * 227^2), which float32 would round: the integer loop nest.
mmi_case("mmi_bound_exceeded", (3, 1024), 16, "uint8", "uint8", "none", "none", a_low=200,
         b_low=200)
