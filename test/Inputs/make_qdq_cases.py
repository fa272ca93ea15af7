"""QDQ-quantized MatMul weights (DequantizeLinear of an integer initializer feeding MatMul's B,
as onnxruntime's quantization tools write them) for test/Driver/qdq_weights.test. Expected
outputs are numpy products with the weights dequantized here: (W - zero_point) * scale."""
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
