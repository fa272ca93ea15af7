#!/usr/bin/env python3
"""Writes a NonMaxSuppression model whose result type is static ([2, 3]), with one input set
that selects 2 boxes (test_data_set_0, expected output from the greedy NMS of
make_e2e_cases.py) and one that selects 3 (three/: max_output_boxes_per_class = 3), which the
compiled model must refuse at run time.

Usage: make_nms_limit.py OUT_DIR
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import model, save_case, vi
from make_e2e_cases import reference_nms

out = sys.argv[1]
F, I64 = TensorProto.FLOAT, TensorProto.INT64
m = model([helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou", "score"],
                            ["sel"], name="nms")],
          [vi("boxes", F, [1, 6, 4]), vi("scores", F, [1, 1, 6]), vi("max_out", I64, [1]),
           vi("iou", F, [1]), vi("score", F, [1])],
          [vi("sel", I64, [2, 3])], opset=11)
# Six disjoint unit boxes: nothing suppresses anything, the limit decides the count.
boxes = np.array([[[i, 0, i + 1, 1] for i in range(0, 12, 2)]], dtype=np.float32)
scores = np.array([[[0.9, 0.75, 0.6, 0.95, 0.5, 0.3]]], dtype=np.float32)
iou, score = np.array([0.5], np.float32), np.array([0.0], np.float32)
two = [boxes, scores, np.array([2], np.int64), iou, score]
save_case(out, ".", m, [(two, [reference_nms(boxes, scores, 2, 0.5, 0.0)])])
three = os.path.join(out, "three")
os.makedirs(three, exist_ok=True)
for k, a in enumerate([boxes, scores, np.array([3], np.int64), iou, score]):
    with open(os.path.join(three, f"input_{k}.pb"), "wb") as f:
        f.write(numpy_helper.from_array(a, ["boxes", "scores", "max_out", "iou", "score"][k]).SerializeToString())
