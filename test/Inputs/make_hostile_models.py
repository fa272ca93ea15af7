#!/usr/bin/env python3
"""Writes malformed ONNX models, one per defect class the importer must reject cleanly.

Usage: make_hostile_models.py OUT_DIR

Each OUT_DIR/<name>.onnx is built with onnx.helper and then broken on purpose (the fuzzing
campaign of the hostile-inputs issue found each class crashing libonnx's shape inference or the
importer). test/Import/ONNX/hostile_models.test checks the one-line error for each; the models
that are valid but unusual (a node list out of order, an empty initializer) also get inputs and
expected outputs computed here with numpy.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def model(nodes, inputs, outputs, inits=(), opset=13, value_info=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits),
                              value_info=list(value_info))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vi(name, dims, elem=F):
    return helper.make_tensor_value_info(name, elem, dims)


def save(out, name, m):
    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())  # no onnx.save: it would check some of what is broken


def reshape_bad_shape():
    """An int64 Reshape shape whose raw_data does not match its dims (libonnx ParseData wrote
    past its buffer)."""
    shape = TensorProto(name="shape", data_type=TensorProto.INT64, dims=[2])
    shape.raw_data = np.array([3, 2, 7], dtype=np.int64).tobytes()  # 24 bytes for 2 values
    return model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="r")],
                 [vi("x", [2, 3])], [vi("y", [3, 2])], [shape])


def scan_without_body():
    return model([helper.make_node("Scan", ["x"], ["y"], name="scan", num_scan_inputs=1)],
                 [vi("x", [2, 3])], [vi("y", [2, 3])], opset=11)


def untyped_input():
    m = model([helper.make_node("EyeLike", ["x"], ["y"], name="eye")],
              [vi("x", [3, 3])], [vi("y", [3, 3])])
    m.graph.input[0].ClearField("type")
    return m


def opset_1000():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [2])], [vi("y", [2])], opset=1000)


def out_of_order():
    """y = Relu(x) * 2 + 1 with the nodes listed last to first."""
    two = numpy_helper.from_array(np.array(2, dtype=np.float32), "two")
    one = numpy_helper.from_array(np.array(1, dtype=np.float32), "one")
    nodes = [helper.make_node("Add", ["t", "one"], ["y"], name="add"),
             helper.make_node("Mul", ["r", "two"], ["t"], name="mul"),
             helper.make_node("Relu", ["x"], ["r"], name="relu")]
    return model(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])], [two, one])


def wrong_declared_type():
    """Add of two [2,3] inputs declared to return a scalar."""
    return model([helper.make_node("Add", ["a", "b"], ["y"], name="add")],
                 [vi("a", [2, 3]), vi("b", [2, 3])], [vi("y", [])])


def huge_no_data():
    w = TensorProto(name="w", data_type=F, dims=[100000, 100000])
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [1])], [vi("y", [100000, 100000])], [w])


def dim_2_61():
    w = TensorProto(name="w", data_type=F, dims=[2 ** 61])
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [1])], [vi("y", [2 ** 61])], [w])


def count_overflows():
    """Dims whose product wraps to 0 in 64 bits: 2^32 * 2^32."""
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [2 ** 32, 2 ** 32])], [vi("y", [2 ** 32, 2 ** 32])])


def huge_input():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [2 ** 62])], [vi("y", [2 ** 62])])


def external(location):
    w = TensorProto(name="w", data_type=F, dims=[4], data_location=TensorProto.EXTERNAL)
    e = w.external_data.add()
    e.key, e.value = "location", location
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [4])], [vi("y", [4])], [w])


def cycle():
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="n1"),
             helper.make_node("Neg", ["a"], ["b"], name="n2"),
             helper.make_node("Identity", ["a"], ["y"], name="n3")]
    return model(nodes, [vi("x", [2])], [vi("y", [2])])


def defined_twice():
    nodes = [helper.make_node("Relu", ["x"], ["t"], name="n1"),
             helper.make_node("Neg", ["x"], ["t"], name="n2"),
             helper.make_node("Identity", ["t"], ["y"], name="n3")]
    return model(nodes, [vi("x", [2])], [vi("y", [2])])


def newline_name():
    return model([helper.make_node("FancyOp", ["x"], ["y"], name="bad\nname")],
                 [vi("x", [2])], [vi("y", [2])])


def data_type_99():
    w = TensorProto(name="w", data_type=99, dims=[1])
    w.raw_data = b"\0\0\0\0"
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [1])], [vi("y", [1])], [w])


def convtranspose_rank2():
    """ConvTranspose on a rank-2 input: libonnx 1.12's inference function dereferences null
    (found by test/fuzz's importer target). Caught by running inference in a child process."""
    return model([helper.make_node("ConvTranspose", ["x", "w"], ["y"])],
                 [vi("x", [1, 3]), vi("w", [1, 2, 3])], [vi("y", [1, 2, 5])], opset=11)


def empty_initializer():
    """A valid model with a zero-element initializer stored in typed fields (empty
    float_data): x concatenated with nothing."""
    e = TensorProto(name="e", data_type=F, dims=[0, 3])
    return model([helper.make_node("Concat", ["x", "e"], ["y"], name="cat", axis=0)],
                 [vi("x", [2, 3])], [vi("y", [2, 3])], [e])


def write_case(out, name, inputs, outputs):
    folder = os.path.join(out, name + "_data")
    os.makedirs(folder, exist_ok=True)
    for k, (n, a) in enumerate(inputs):
        with open(os.path.join(folder, f"input_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
    for k, (n, a) in enumerate(outputs):
        with open(os.path.join(folder, f"output_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, build in [("reshape_bad_shape", reshape_bad_shape),
                        ("scan_without_body", scan_without_body),
                        ("untyped_input", untyped_input), ("opset_1000", opset_1000),
                        ("out_of_order", out_of_order),
                        ("wrong_declared_type", wrong_declared_type),
                        ("huge_no_data", huge_no_data), ("dim_2_61", dim_2_61),
                        ("count_overflows", count_overflows), ("huge_input", huge_input),
                        ("cycle", cycle), ("defined_twice", defined_twice),
                        ("newline_name", newline_name), ("data_type_99", data_type_99),
                        ("empty_initializer", empty_initializer),
                        ("convtranspose_rank2", convtranspose_rank2)]:
        save(out, name, build())
    save(out, "external_traversal", external("../../../../../../../../etc/passwd"))
    save(out, "external_absolute", external("/etc/passwd"))
    save(out, "external_symlink", external("link.bin"))
    link = os.path.join(out, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink("/etc/passwd", link)

    x = np.linspace(-1.5, 1.5, 6, dtype=np.float32).reshape(2, 3)
    write_case(out, "out_of_order", [("x", x)], [("y", np.maximum(x, 0) * 2 + 1)])
    write_case(out, "empty_initializer", [("x", x)], [("y", x)])


if __name__ == "__main__":
    main()
