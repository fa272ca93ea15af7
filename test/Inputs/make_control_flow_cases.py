#!/usr/bin/env python3
"""Writes ONNX models with control flow in the backend-test layout, expected outputs computed
here by numpy (an independent reference).

Usage: make_control_flow_cases.py OUT_DIR

if_data/    x[4] -> If(ReduceSum(x) > 0): then x * 2 + outer bias, else x - 1 (a data-dependent
            condition; the branches read the outer value `bias`): one set per branch
if_nested/  x[3], flag bool -> If(flag): then If(x[0] > 0) (nested, its own condition) of
            Relu(x) / Neg(x), else x * 3: three sets; if_nested_fixed/ the sets with flag true,
            without the flag input (for --input-value flag=1)
loop_scan/  Loop with trip count M and a run-time condition: s = s + x * i while s.sum() < 50;
            carried s[3], scan output of s each iteration, the loop stops early: M = 10 and M = 2
scan_rev/   Scan (opset 9) over x[5,2], one reversed input: running sum state, outputs the state
            per step (forward) and x reversed
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import save_case, vi

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def graph(nodes, name, inputs, outputs, inits=()):
    return helper.make_graph(nodes, name, inputs, outputs, list(inits))


def model(g, opset=16):
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(5)
    arr = numpy_helper.from_array

    # if_data
    bias = np.array([0.5, -0.5, 1.0, 2.0], np.float32)
    then_g = graph([helper.make_node("Mul", ["x", "two"], ["t"]),
                    helper.make_node("Add", ["t", "bias"], ["y_then"])],
                   "then", [], [vi("y_then", F, [4])],
                   [arr(np.array(2.0, np.float32), "two")])
    else_g = graph([helper.make_node("Sub", ["x", "one"], ["y_else"])], "else", [],
                   [vi("y_else", F, [4])], [arr(np.array(1.0, np.float32), "one")])
    g = graph([helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
               helper.make_node("Greater", ["s", "zero"], ["c"]),
               helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
              "if_data", [vi("x", F, [4])], [vi("y", F, [4])],
              [arr(bias, "bias"), arr(np.array(0.0, np.float32), "zero")])
    xs = [np.array([1, 2, -1, 0.5], np.float32), np.array([-1, -2, 1, 0.5], np.float32)]
    save_case(out, "if_data", model(g), [([x], [x * 2 + bias if x.sum() > 0 else x - 1])
                                         for x in xs])

    # if_nested
    inner_then = graph([helper.make_node("Relu", ["x"], ["r"])], "it", [], [vi("r", F, [3])])
    inner_else = graph([helper.make_node("Neg", ["x"], ["n"])], "ie", [], [vi("n", F, [3])])
    outer_then = graph(
        [helper.make_node("Gather", ["x", "idx0"], ["x0"], axis=0),
         helper.make_node("Greater", ["x0", "zero"], ["c2"]),
         helper.make_node("If", ["c2"], ["z"], then_branch=inner_then, else_branch=inner_else)],
        "ot", [], [vi("z", F, [3])],
        [arr(np.array(0, np.int64), "idx0"), arr(np.array(0.0, np.float32), "zero")])
    outer_else = graph([helper.make_node("Mul", ["x", "three"], ["w"])], "oe", [],
                       [vi("w", F, [3])], [arr(np.array(3.0, np.float32), "three")])
    g = graph([helper.make_node("If", ["flag"], ["y"], then_branch=outer_then,
                                else_branch=outer_else)],
              "if_nested", [vi("x", F, [3]), vi("flag", B, [])], [vi("y", F, [3])])
    sets = []
    for x, flag in ((np.array([1, -2, 3], np.float32), True),
                    (np.array([-1, -2, 3], np.float32), True),
                    (np.array([1, -2, 3], np.float32), False)):
        y = (np.maximum(x, 0) if x[0] > 0 else -x) if flag else x * 3
        sets.append(([x, np.array(flag)], [y.astype(np.float32)]))
    save_case(out, "if_nested", model(g), sets)
    # The same model's data for flag fixed to true at compile time (--input-value flag=1).
    save_case(out, "if_nested_fixed", model(g), [([x], [y]) for (x, f), (y,) in
                                                  ((ins, outs) for ins, outs in sets) if f])

    # loop_scan
    body = graph(
        [helper.make_node("Cast", ["i"], ["fi"], to=F),
         helper.make_node("Mul", ["x", "fi"], ["xi"]),
         helper.make_node("Add", ["s_in", "xi"], ["s_out"]),
         helper.make_node("ReduceSum", ["s_out"], ["tot"], keepdims=0),
         helper.make_node("Less", ["tot", "limit"], ["c_out"]),
         helper.make_node("Identity", ["s_out"], ["scan"])],
        "body", [vi("i", I64, []), vi("c_in", B, []), vi("s_in", F, [3])],
        [vi("c_out", B, []), vi("s_out", F, [3]), vi("scan", F, [3])],
        [arr(np.array(50.0, np.float32), "limit")])
    g = graph([helper.make_node("Loop", ["M", "", "s0"], ["s", "trace"], body=body)],
              "loop_scan", [vi("M", I64, []), vi("x", F, [3]), vi("s0", F, [3])],
              [vi("s", F, [3]), vi("trace", F, [None, 3])])
    sets = []
    for m in (10, 2):
        x = np.array([1.0, 2.0, 0.5], np.float32)
        s = np.zeros(3, np.float32)
        trace = []
        for i in range(m):
            s = s + x * np.float32(i)
            trace.append(s.copy())
            if not s.sum() < 50:
                break
        sets.append(([np.array(m, np.int64), x, np.zeros(3, np.float32)],
                     [s, np.stack(trace).astype(np.float32)]))
    save_case(out, "loop_scan", model(g), sets)

    # scan_rev
    body = graph([helper.make_node("Add", ["acc", "xf"], ["acc_out"]),
                  helper.make_node("Identity", ["acc_out"], ["run"]),
                  helper.make_node("Identity", ["xr"], ["rev"])],
                 "sbody", [vi("acc", F, [2]), vi("xf", F, [2]), vi("xr", F, [2])],
                 [vi("acc_out", F, [2]), vi("run", F, [2]), vi("rev", F, [2])])
    g = graph([helper.make_node("Scan", ["init", "x", "x"], ["final", "running", "reversed"],
                                body=body, num_scan_inputs=2, scan_input_directions=[0, 1])],
              "scan_rev", [vi("init", F, [2]), vi("x", F, [5, 2])],
              [vi("final", F, [2]), vi("running", F, [5, 2]), vi("reversed", F, [5, 2])])
    x = rng.standard_normal((5, 2)).astype(np.float32)
    init = np.array([1.0, -1.0], np.float32)
    running = init + np.cumsum(x, axis=0)
    save_case(out, "scan_rev", model(g),
              [([init, x], [running[-1], running.astype(np.float32), x[::-1].copy()])])


if __name__ == "__main__":
    main()
