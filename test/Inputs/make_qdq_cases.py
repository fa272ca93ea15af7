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
