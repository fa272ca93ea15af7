#!/usr/bin/env python3
"""Writes small end-to-end cases in the ONNX backend-test layout, with expected outputs computed
here by numpy (an independent reference).

Usage: make_e2e_cases.py OUT_DIR

alias/       outputs that alias an input, a constant, each other and a reshaped view of the input
             (the ABI must still hand out distinct, freeable buffers)
dynamic/     Relu + Add over a symbolic batch dimension; test_data_set_0 has batch 2,
             test_data_set_1 has batch 5
mixed/       uint8 -> float Cast, integer Div (signed), Where over a comparison, broadcasting
same_dim/    Add of two inputs that share the symbolic dimension N (the runtime must check that
             the two sizes agree), plus a third input with its own symbol M
diff_dim/    Relu(a[N]) + b[M]: different symbols that the Add forces equal (the compiled code
             must check them at run time)
gather/      Gather (axis 0) and GatherND over dynamic data and indices, negative indices
             included (out-of-range indices must be reported at run time)
onehot_dyn/  OneHot with indices[N], a depth input and values[V] of run-time length: V = 2 runs,
             another length is a run-time error naming the node
nms/         NonMaxSuppression with a data-dependent number of selected boxes (result [K, 3]),
             two batches and three classes of random boxes, against a plain greedy NMS here
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import save_case, model, vi


def reference_nms(boxes, scores, max_out, iou_thr, score_thr):
    """Greedy NMS as the ONNX operator defines it: per batch and class, take the highest score
    above score_thr (lowest index on ties), drop boxes whose IoU with it exceeds iou_thr."""
    rows = []
    for b in range(boxes.shape[0]):
        y1 = np.minimum(boxes[b, :, 0], boxes[b, :, 2]).astype(np.float64)
        x1 = np.minimum(boxes[b, :, 1], boxes[b, :, 3]).astype(np.float64)
        y2 = np.maximum(boxes[b, :, 0], boxes[b, :, 2]).astype(np.float64)
        x2 = np.maximum(boxes[b, :, 1], boxes[b, :, 3]).astype(np.float64)
        area = (x2 - x1) * (y2 - y1)
        for c in range(scores.shape[1]):
            alive = [j for j in range(boxes.shape[1]) if scores[b, c, j] > score_thr]
            alive.sort(key=lambda j: (-scores[b, c, j], j))
            picked = 0
            while alive and picked < max_out:
                i = alive.pop(0)
                rows.append([b, c, i])
                picked += 1
                keep = []
                for j in alive:
                    w = max(0.0, min(x2[i], x2[j]) - max(x1[i], x1[j]))
                    h = max(0.0, min(y2[i], y2[j]) - max(y1[i], y1[j]))
                    union = area[i] + area[j] - w * h
                    if not (area[i] > 0 and area[j] > 0 and union > 0 and w * h / union > iou_thr):
                        keep.append(j)
                alive = keep
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def main():
    out = sys.argv[1]
    F, I32, U8, B = TensorProto.FLOAT, TensorProto.INT32, TensorProto.UINT8, TensorProto.BOOL

    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    c = np.array([[1.5, -2.0, 4.0], [0.25, 8.0, -1.0]], dtype=np.float32)
    m = model(
        [helper.make_node("Identity", ["x"], ["y0"]),
         helper.make_node("Identity", ["c"], ["y1"]),
         helper.make_node("Identity", ["x"], ["y2"]),
         helper.make_node("Reshape", ["x", "shape"], ["y3"])],
        [vi("x", F, [2, 3])],
        [vi("y0", F, [2, 3]), vi("y1", F, [2, 3]), vi("y2", F, [2, 3]), vi("y3", F, [3, 2])],
        [numpy_helper.from_array(c, "c"),
         numpy_helper.from_array(np.array([3, 2], dtype=np.int64), "shape")])
    save_case(out, "alias", m, [([x], [x, c, x, x.reshape(3, 2)])])

    b = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    m = model(
        [helper.make_node("Relu", ["x"], ["r"]),
         helper.make_node("Add", ["r", "b"], ["y"])],
        [vi("x", F, ["N", 3])], [vi("y", F, ["N", 3])],
        [numpy_helper.from_array(b, "b")])
    sets = []
    for n in (2, 5):
        xi = (np.arange(n * 3, dtype=np.float32).reshape(n, 3) - 4) * 0.5
        sets.append(([xi], [np.maximum(xi, 0) + b]))
    save_case(out, "dynamic", m, sets)

    m = model(
        [helper.make_node("Add", ["a", "b"], ["y"]),
         helper.make_node("ReduceSum", ["c"], ["s"], keepdims=0)],
        [vi("a", F, ["N"]), vi("b", F, ["N"]), vi("c", F, ["M"])],
        [vi("y", F, ["N"]), vi("s", F, [])])
    a = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    bb = np.array([0.5, -1.0, 8.0, 0.25], dtype=np.float32)
    cc = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    save_case(out, "same_dim", m, [([a, bb, cc], [a + bb, np.array(cc.sum(), dtype=np.float32)])])

    m = model(
        [helper.make_node("Relu", ["a"], ["r"], name="relu_a"),
         helper.make_node("Add", ["r", "b"], ["y"], name="add_rb")],
        [vi("a", F, ["N"]), vi("b", F, ["M"])], [vi("y", F, ["N"])])
    a = np.array([1.0, -2.0, 3.0, -4.0, 5.0], dtype=np.float32)
    bb = np.array([0.5, 0.25, -8.0, 1.0, 2.0], dtype=np.float32)
    save_case(out, "diff_dim", m, [([a, bb], [np.maximum(a, 0) + bb])])

    I64 = TensorProto.INT64
    m = model(
        [helper.make_node("Gather", ["d", "i"], ["g"], axis=0, name="embed"),
         helper.make_node("GatherND", ["d", "p"], ["n"], name="pick")],
        [vi("d", F, ["V", 3]), vi("i", I64, ["S"]), vi("p", I64, ["P", 2])],
        [vi("g", F, ["S", 3]), vi("n", F, ["P"])])
    sets = []
    for v, idx, pairs in ((4, [3, -1, 0, -4], [[0, 2], [-1, -3], [3, 1]]),
                          (2, [1], [[-2, 0]])):
        dv = np.arange(v * 3, dtype=np.float32).reshape(v, 3) * 0.5 - 1
        iv = np.array(idx, dtype=np.int64)
        pv = np.array(pairs, dtype=np.int64)
        sets.append(([dv, iv, pv], [dv[iv], dv[pv[:, 0], pv[:, 1]]]))
    save_case(out, "gather", m, sets)

    m = model(
        [helper.make_node("OneHot", ["i", "depth", "values"], ["y"], axis=-1, name="hot")],
        [vi("i", I64, ["N"]), vi("depth", I64, []), vi("values", F, ["V"])],
        [vi("y", F, ["N", "D"])], opset=11)
    iv = np.array([0, 3, -1, 2], dtype=np.int64)
    vv = np.array([-0.5, 2.0], dtype=np.float32)
    y = np.full((4, 5), -0.5, np.float32)
    y[np.arange(4), iv % 5] = 2.0
    save_case(out, "onehot_dyn", m, [([iv, np.array(5, np.int64), vv], [y])])

    m = model(
        [helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou", "score"],
                          ["sel"], name="nms")],
        [vi("boxes", F, [2, 12, 4]), vi("scores", F, [2, 3, 12]), vi("max_out", I64, [1]),
         vi("iou", F, [1]), vi("score", F, [1])],
        [vi("sel", I64, ["K", 3])], opset=11)
    rng = np.random.default_rng(7)
    sets = []
    for max_out, iou_thr, score_thr in ((4, 0.3, 0.2), (12, 0.6, 0.0), (1, 0.5, 0.9)):
        corner = rng.uniform(0, 10, (2, 12, 2)).astype(np.float32)
        size = rng.uniform(1, 5, (2, 12, 2)).astype(np.float32)
        # [y1, x1, y2, x2], some with the corners swapped.
        boxes = np.concatenate([corner, corner + size], axis=2)
        boxes[:, ::3] = boxes[:, ::3][:, :, [2, 3, 0, 1]]
        scores = rng.uniform(0, 1, (2, 3, 12)).astype(np.float32)
        sets.append(([boxes, scores, np.array([max_out], np.int64),
                      np.array([iou_thr], np.float32), np.array([score_thr], np.float32)],
                     [reference_nms(boxes, scores, max_out, iou_thr, score_thr)]))
    save_case(out, "nms", m, sets)

    q = np.array([0, 7, 200, 255], dtype=np.uint8)
    i = np.array([-7, 7, 9, -9], dtype=np.int32)
    j = np.array([2, -2, 4, 4], dtype=np.int32)
    m = model(
        [helper.make_node("Cast", ["q"], ["qf"], to=F),
         helper.make_node("Div", ["i", "j"], ["d"]),
         helper.make_node("Greater", ["qf", "thr"], ["g"]),
         helper.make_node("Where", ["g", "qf", "neg"], ["w"])],
        [vi("q", U8, [4]), vi("i", I32, [4]), vi("j", I32, [4])],
        [vi("qf", F, [4]), vi("d", I32, [4]), vi("w", F, [4]), vi("g", B, [4])],
        [numpy_helper.from_array(np.array(100.0, dtype=np.float32), "thr"),
         numpy_helper.from_array(np.array([-1.0], dtype=np.float32), "neg")])
    qf = q.astype(np.float32)
    d = np.trunc(i / j).astype(np.int32)  # ONNX integer Div truncates toward zero
    g = qf > 100.0
    save_case(out, "mixed", m, [([q, i, j], [qf, d, np.where(g, qf, -1.0).astype(np.float32), g])])


if __name__ == "__main__":
    main()
