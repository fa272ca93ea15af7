#!/usr/bin/env python3
"""Writes a Gather whose constant indices are out of range (index 5 on an axis of size 3).

Usage: make_gather_const.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from backend_case import model, vi

m = model([helper.make_node("Gather", ["x", "idx"], ["y"], axis=1, name="g")],
          [vi("x", TensorProto.FLOAT, [2, 3])], [vi("y", TensorProto.FLOAT, [2, 2])],
          [numpy_helper.from_array(np.array([0, 5], dtype=np.int64), "idx")])
onnx.save(m, sys.argv[1])
