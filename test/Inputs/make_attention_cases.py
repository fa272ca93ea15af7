#!/usr/bin/env python3
"""Writes attention blocks for sparq-cpu-fuse-attention: softmax(scale * Q Kᵀ + mask) V in the
ONNX form exporters produce (MatMul, Transpose, Mul or Div by a scalar, Add of a mask, Softmax
over the last axis, MatMul), with expected outputs computed here by numpy in float64.

Usage: make_attention_cases.py OUT_DIR

Fused cases: a causal constant mask (-1e9 above the diagonal) on odd sizes; a causal mask with
an offset (new queries after cached keys, -inf above the band); a mask given as an input; one
constant non-causal mask per head; rank-3 and rank-2 operands without a mask, the scale a Div;
symbolic sequence lengths (three data sets of different S and T) with the mask an input; Kᵀ
given as an input (no Transpose for the kernel to absorb).
Cases left unfused (the report says why): the probabilities also an output, a scale applied
after the mask, a head dimension above the kernel's 256. Sizes are not multiples of the
kernel's 64 query rows, its key blocks or the vector width.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backend_case import model, save_case, vi  # noqa: E402


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def case(out, name, lead, S, T, D, mask=None, mask_input=False, scale_op="Mul",
         scale_after_mask=False, probs_output=False, seed=0, dynamic=(), kt_input=False):
    """Q [*lead, S, D], K and V [*lead, T, D] inputs; `mask` an additive [.., S, T] array
    (an initializer unless `mask_input`, or a function of (S, T) with `dynamic`). `dynamic`:
    more (S, T) sizes, each a further data set; the model's S and T (and the mask input's)
    are then symbolic dims. `kt_input`: the input is Kᵀ [*lead, D, T] (no Transpose)."""
    sizes = [(S, T), *dynamic]
    perm = list(range(len(lead))) + [len(lead) + 1, len(lead)]
    nodes = [helper.make_node("MatMul", ["q", "k" if kt_input else "kt"], ["scores"])]
    if not kt_input:
        nodes.insert(0, helper.make_node("Transpose", ["k"], ["kt"], perm=perm))
    scale = np.float32(1 / np.sqrt(D))
    c = scale if scale_op == "Mul" else np.float32(1 / scale)
    inits = [numpy_helper.from_array(np.array(c, np.float32), "c")]
    sd, td = ("S", "T") if dynamic else (S, T)
    kshape = [*lead, D, td] if kt_input else [*lead, td, D]
    inputs = [vi("q", TensorProto.FLOAT, [*lead, sd, D]), vi("k", TensorProto.FLOAT, kshape),
              vi("v", TensorProto.FLOAT, [*lead, td, D])]
    last = "scores"
    steps = ["scale", "mask"] if not scale_after_mask else ["mask", "scale"]
    for step in steps:
        if step == "scale":
            nodes.append(helper.make_node(scale_op, [last, "c"], ["scaled"]))
            last = "scaled"
        elif mask is not None:
            if mask_input:
                mshape = [sd, td] if dynamic else list(mask.shape)
                inputs.append(vi("mask", TensorProto.FLOAT, mshape))
            else:
                inits.append(numpy_helper.from_array(mask, "mask"))
            nodes.append(helper.make_node("Add", [last, "mask"], ["masked"]))
            last = "masked"
    nodes.append(helper.make_node("Softmax", [last], ["probs"], axis=-1))
    nodes.append(helper.make_node("MatMul", ["probs", "v"], ["y"]))
    outputs = [vi("y", TensorProto.FLOAT, [*lead, sd, D])]
    if probs_output:
        outputs.append(vi("probs", TensorProto.FLOAT, [*lead, sd, td]))
    datasets = []
    rng = np.random.default_rng(seed)
    for S, T in sizes:
        q = rng.standard_normal((*lead, S, D)).astype(np.float32)
        k = rng.standard_normal((*lead, T, D)).astype(np.float32)
        v = rng.standard_normal((*lead, T, D)).astype(np.float32)
        m = mask(S, T) if callable(mask) else mask
        feeds = [q, np.ascontiguousarray(np.swapaxes(k, -1, -2)) if kt_input else k, v]
        feeds += [m] if mask is not None and mask_input else []
        s = np.matmul(q.astype(np.float64), np.swapaxes(k, -1, -2).astype(np.float64))
        for step in steps:
            if step == "scale":
                s = s * np.float64(scale)
            elif m is not None:
                s = s + m.astype(np.float64)
        p = softmax(s)
        y = np.matmul(p, v.astype(np.float64)).astype(np.float32)
        datasets.append((feeds, [y] + ([p.astype(np.float32)] if probs_output else [])))
    save_case(out, name, model(nodes, inputs, outputs, inits, opset=17), datasets)


def band(S, T, offset, fill):
    """0 where key j <= query i + offset, `fill` above."""
    i = np.arange(S)[:, None]
    j = np.arange(T)[None, :]
    return np.where(j <= i + offset, 0.0, fill).astype(np.float32)


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    case(out, "causal_odd", (1, 3), 150, 150, 40, mask=band(150, 150, 0, -1e9), seed=1)
    case(out, "causal_offset", (1, 2), 20, 45, 16, mask=band(20, 45, 25, -np.inf), seed=2)
    case(out, "mask_input", (2, 2), 33, 70, 24,
         mask=(0.5 * rng.standard_normal((33, 70))).astype(np.float32), mask_input=True,
         scale_op="Div", seed=3)
    case(out, "per_head_mask", (1, 3), 9, 130, 64,
         mask=(rng.standard_normal((1, 3, 9, 130))).astype(np.float32), seed=4)
    case(out, "rank3", (4,), 50, 50, 8, scale_op="Div", seed=5)
    case(out, "rank2", (), 65, 17, 128, seed=6)
    case(out, "probs_output", (1, 2), 12, 12, 16, mask=band(12, 12, 0, -1e9), probs_output=True,
         seed=8)
    case(out, "scale_after_mask", (1, 2), 12, 12, 16,
         mask=(rng.standard_normal((12, 12))).astype(np.float32), scale_after_mask=True, seed=9)
    case(out, "head_dim_300", (1, 1), 5, 6, 300, seed=10)
    # Kᵀ given as an input: the kernel reads it as it is.
    case(out, "kt_input", (1, 2), 66, 80, 48, mask=band(66, 80, 14, -1e9), seed=12,
         kt_input=True)
    # Symbolic S and T with a mask input of [S, T]: three sizes, one of them S = 1 (decode).
    case(out, "dynamic", (1, 2), 70, 90, 32, mask=lambda S, T: band(S, T, T - S, -np.inf),
         mask_input=True, seed=11, dynamic=[(1, 40), (5, 5)])


if __name__ == "__main__":
    main()
