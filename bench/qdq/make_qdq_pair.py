"""Writes a QDQ MatMul model and the same model with its weight dequantized to float32, plus one
input, for comparing sparq's packed QDQ path with the float path (docs/compression.md, "QDQ"):

    python3 bench/qdq/make_qdq_pair.py OUT [K]
    sparq-compile OUT/qdq.onnx -o OUT/qdq.so; sparq-compile OUT/fp32.onnx -o OUT/fp32.so
    for i in 1 2 3; do for m in qdq fp32; do
      sparq-run OUT/$m.so --inputs OUT/in --bench 200 --threads 1 | tail -1; done; done

The weight is K x K int8, symmetric, one scale per output column; the input is 1 x K. Also
writes qdq4.onnx and fp32_4.onnx: the same product with an int4 weight in blocks of 32 along K
(opset 21, symmetric: onnxruntime's 4-bit QDQ form) and its float32 twin."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
k = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
os.makedirs(os.path.join(out, "in"), exist_ok=True)
rng = np.random.default_rng(1)
w = rng.integers(-128, 128, size=(k, k)).astype(np.int8)
scale = rng.uniform(0.001, 0.01, size=(k,)).astype(np.float32)


def save(nodes, inits, name, opset=13):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, k])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    if opset >= 21:
        m.ir_version = 10
    onnx.save(m, os.path.join(out, name))


save([helper.make_node("DequantizeLinear", ["w", "s", "z"], ["wd"], axis=1),
      helper.make_node("MatMul", ["a", "wd"], ["y"])],
     [numpy_helper.from_array(w, "w"), numpy_helper.from_array(scale, "s"),
      numpy_helper.from_array(np.zeros(k, np.int8), "z")], "qdq.onnx")
save([helper.make_node("MatMul", ["a", "wd"], ["y"])],
     [numpy_helper.from_array(w.astype(np.float32) * scale, "wd")], "fp32.onnx")
with open(os.path.join(out, "in", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(rng.standard_normal((1, k)).astype(np.float32), "a")
            .SerializeToString())

# int4 (data_type 22), packed two per byte with the first in the low nibble, a scale per block.
block = 32
w4 = rng.integers(-8, 8, size=(k, k))
s4 = rng.uniform(0.01, 0.05, size=(k // block, k)).astype(np.float32)
nib = (w4.ravel() & 0xF).astype(np.uint8)
t4 = TensorProto(name="w", data_type=22, dims=[k, k], raw_data=(nib[0::2] | (nib[1::2] << 4)).tobytes())
save([helper.make_node("DequantizeLinear", ["w", "s"], ["wd"], axis=0, block_size=block),
      helper.make_node("MatMul", ["a", "wd"], ["y"])],
     [t4, numpy_helper.from_array(s4, "s")], "qdq4.onnx", opset=21)
save([helper.make_node("MatMul", ["a", "wd"], ["y"])],
     [numpy_helper.from_array((w4 * np.repeat(s4, block, axis=0)).astype(np.float32), "wd")],
     "fp32_4.onnx")
