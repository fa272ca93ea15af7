#!/usr/bin/env python3
"""Checks the fused block's flops in a sparq-run --profile JSON against the ONNX graph: each Conv
2 * N * F * OH * OW * (C / groups) * KH * KW (a multiply and an add per tap, the bias as the
accumulator's start), each Relu, Clip and Add one op per output element (Clip: two, a max and a
min). Shapes come from ONNX shape inference, independent of sparq.

Usage: check_profile_flops.py MODEL.onnx PROFILE.json
"""
import json
import sys

import numpy as np
import onnx
from onnx import shape_inference


def main():
    model = shape_inference.infer_shapes(onnx.load(sys.argv[1]))
    g = model.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(g.value_info) + list(g.input) + list(g.output)}
    inits = {i.name: list(i.dims) for i in g.initializer}
    conv = elementwise = 0
    for node in g.node:
        out = int(np.prod(shapes[node.output[0]]))
        if node.op_type == "Conv":
            w = inits[node.input[1]]
            conv += 2 * out * int(np.prod(w[1:]))
        elif node.op_type in ("Relu", "Add"):
            elementwise += out
        elif node.op_type == "Clip":
            elementwise += 2 * out
    with open(sys.argv[2]) as f:
        profile = json.load(f)["profile"]
    fused = [k for k in profile["kernels"] if k["kind"] == "fused block"]
    flops = fused[0]["flops"] if len(fused) == 1 else -1
    verdict = "equal" if flops == conv + elementwise else "DIFFERENT"
    print(f"fused block flops {flops} = convolutions {conv} + elementwise {elementwise}: {verdict}")


if __name__ == "__main__":
    main()
