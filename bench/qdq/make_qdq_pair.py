"""Writes a QDQ MatMul model and the same model with its weight dequantized to float32, plus one
input, for comparing sparq's packed QDQ path with the float path (docs/compression.md, "QDQ"):

    python3 bench/qdq/make_qdq_pair.py OUT [K]
    sparq-compile OUT/qdq.onnx -o OUT/qdq.so; sparq-compile OUT/fp32.onnx -o OUT/fp32.so
    for i in 1 2 3; do for m in qdq fp32; do
      sparq-run OUT/$m.so --inputs OUT/in --bench 200 --threads 1 | tail -1; done; done

The weight is K x K int8, symmetric, one scale per output column; the input is 1 x K."""
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


def save(nodes, inits, name):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, k])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(out, name))


save([helper.make_node("DequantizeLinear", ["w", "s", "z"], ["wd"], axis=1),
      helper.make_node("MatMul", ["a", "wd"], ["y"])],
     [numpy_helper.from_array(w, "w"), numpy_helper.from_array(scale, "s"),
      numpy_helper.from_array(np.zeros(k, np.int8), "z")], "qdq.onnx")
save([helper.make_node("MatMul", ["a", "wd"], ["y"])],
     [numpy_helper.from_array(w.astype(np.float32) * scale, "wd")], "fp32.onnx")
with open(os.path.join(out, "in", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(rng.standard_normal((1, k)).astype(np.float32), "a")
            .SerializeToString())
