"""String tensor cases for test/Driver/strings.test, in the backend-test layout. Every expected
output is written out by hand below (not computed by the code under test)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

from backend_case import model, save_case, vi

out = sys.argv[1]

# StringNormalizer with a symbolic length (the result takes the count), the casts both ways, and
# strings moved by Reshape and Concat.
nodes = [
    helper.make_node("StringNormalizer", ["x"], ["y"], case_change_action="LOWER",
                     stopwords=["the", "a"]),
    helper.make_node("Cast", ["f"], ["fs"], to=TensorProto.STRING),
    helper.make_node("Reshape", ["fs", "shape"], ["z0"]),
    helper.make_node("Concat", ["z0", "y"], ["z"], axis=0),
    helper.make_node("Cast", ["s"], ["w"], to=TensorProto.FLOAT),
    helper.make_node("Cast", ["i"], ["is"], to=TensorProto.STRING),
]
shape = helper.make_tensor("shape", TensorProto.INT64, [1], [9])
m = model(nodes,
          [vi("x", TensorProto.STRING, ["N"]), vi("f", TensorProto.FLOAT, [3, 3]),
           vi("s", TensorProto.STRING, [4]), vi("i", TensorProto.INT32, [3])],
          [vi("y", TensorProto.STRING, ["M"]), vi("z", TensorProto.STRING, ["K"]),
           vi("w", TensorProto.FLOAT, [4]), vi("is", TensorProto.STRING, [3])],
          [shape])
x = np.array(["The", "Quick", "brown", "A", "fox", "\u00c4BC"], dtype=object)
f = np.array([[100.0, 0.1, -2.5], [1e-5, 123456789.0, np.nan], [1e7, -0.0, -np.inf]],
             dtype=np.float32)
s = np.array(["  42", "1e3", "-0.5", "abc"], dtype=object)
i = np.array([-7, 0, 2147483647], dtype=np.int32)
y = np.array(["quick", "brown", "fox", "\u00c4bc"], dtype=object)  # ASCII case change only
# numpy's spellings: positional below 1e8 for float32, scientific from there and below 1e-4.
fs = ["100.0", "0.1", "-2.5", "1e-05", "1.2345679e+08", "NaN", "10000000.0", "-0.0", "-INF"]
w = np.array([42.0, 1000.0, -0.5, np.nan], dtype=np.float32)  # not a number: NaN
istr = np.array(["-7", "0", "2147483647"], dtype=object)
z = np.array(fs + list(y), dtype=object)
x2 = np.array(["a", "THE"], dtype=object)  # every string removed: one empty string
y2 = np.array([""], dtype=object)
save_case(out, "pipeline", m, [([x, f, s, i], [y, z, w, istr]),
                               ([x2, f, s, i], [y2, np.array(fs + [""], dtype=object), w, istr])])

# A static result length the data does not meet: a run-time error naming the node.
nodes = [helper.make_node("StringNormalizer", ["x"], ["y"], name="norm", stopwords=["monday"],
                          is_case_sensitive=1)]
m = model(nodes, [vi("x", TensorProto.STRING, [3])], [vi("y", TensorProto.STRING, [2])])
save_case(out, "static_length", m,
          [([np.array(["monday", "Monday", "x"], dtype=object)],
            [np.array(["Monday", "x"], dtype=object)]),
           ([np.array(["a", "b", "c"], dtype=object)], [np.array(["a", "b"], dtype=object)])])

# A constant string tensor: refused at import.
nodes = [helper.make_node("Identity", ["c"], ["y"])]
c = helper.make_tensor("c", TensorProto.STRING, [2], [b"a", b"b"])
m = model(nodes, [], [vi("y", TensorProto.STRING, [2])], [c])
save_case(out, "constant", m, [])
