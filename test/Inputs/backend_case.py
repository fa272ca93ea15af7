"""Shared by the test-case generators in this folder: writing a model and its data sets in the
ONNX backend-test layout (model.onnx, test_data_set_K/input_K.pb, output_K.pb), and small graph
builders."""
import os

import onnx
from onnx import helper, numpy_helper


def save_case(out, name, model, datasets, check=True):
    """check=False for models of opsets newer than this onnx package knows (its checker
    rejects them)."""
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    if check:
        onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for k, (ins, outs) in enumerate(datasets):
        ds = os.path.join(d, f"test_data_set_{k}")
        os.makedirs(ds, exist_ok=True)
        for kind, arrays in (("input", ins), ("output", outs)):
            for i, a in enumerate(arrays):
                with open(os.path.join(ds, f"{kind}_{i}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(a).SerializeToString())


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def vi(name, t, shape):
    return helper.make_tensor_value_info(name, t, shape)
