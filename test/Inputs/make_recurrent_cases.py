#!/usr/bin/env python3
"""Writes RNN / GRU / LSTM models in the ONNX backend-test layout with expected outputs from the
plain numpy reference below (written from the ONNX operator specification, step by step).

Usage: make_recurrent_cases.py OUT_DIR

lstm_bidir/      LSTM, bidirectional, biases, initial state, peepholes, clip 2.5
gru_reverse/     GRU, reverse, linear_before_reset = 1, biases, initial state
gru_forward/     GRU, forward, linear_before_reset = 0, HardSigmoid/Softsign activations
rnn_seqlens/     RNN with sequence_lens [3, 1, 2] (shorter sequences hold their state, Y is 0
                 past their end), Relu activation
lstm_batchfirst/ LSTM, layout = 1 (batch first), sequence_lens [2, 4]
Dynamic cases (inputs declared with symbolic sequence and batch sizes; one data set per shape):
lstm_dyn/        LSTM, bidirectional, initial state, peepholes: S x B = 4 x 2, 7 x 1, 1 x 3
gru_dyn/         GRU, reverse, linear_before_reset: 5 x 2, 2 x 4
rnn_dyn_lens/    RNN with sequence_lens: 3 x 3 [3, 1, 2], 5 x 2 [4, 5]
lstm_dyn_bf/     LSTM, layout = 1 with a (batch-first) initial state: 4 x 2, 6 x 3
lstm_untied/     lstm_dyn with the initial states' batch sizes named apart from X's (so only the
                 compiled code can check them); its bad_batch/ feeds an initial_h of batch 1
                 with an X of batch 2
lstm_bad_w/      an LSTM whose W has input size 5 for an X of input size 4 (a compile error)
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

from backend_case import save_case


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


ACT = {
    "Sigmoid": sigmoid,
    "Tanh": np.tanh,
    "Relu": lambda x: np.maximum(x, 0),
    "HardSigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "Softsign": lambda x: x / (1 + np.abs(x)),
}


def run_direction(kind, x, w, r, b, h0, c0, p, lens, acts, reverse, clip, lbr):
    """x [S, B, I]; w [G*H, I]; r [G*H, H]; b [2*G*H]; returns Y [S, B, H], h, c."""
    s_len, batch, _ = x.shape
    hidden = r.shape[1]
    h, c = h0.copy(), (c0.copy() if c0 is not None else None)
    y = np.zeros((s_len, batch, hidden), np.float64)
    g = w.shape[0] // hidden
    wb, rb = b[: g * hidden], b[g * hidden:]
    cl = (lambda v: np.clip(v, -clip, clip)) if clip is not None else (lambda v: v)
    steps = range(s_len - 1, -1, -1) if reverse else range(s_len)
    for t in steps:
        xt = x[t]
        hn = np.zeros_like(h)
        cn = np.zeros_like(h) if c is not None else None
        for bi in range(batch):
            if lens is not None and t >= lens[bi]:
                hn[bi] = h[bi]
                if c is not None:
                    cn[bi] = c[bi]
                continue
            def part(k, src, mat, bias):
                return mat[k * hidden:(k + 1) * hidden] @ src + bias[k * hidden:(k + 1) * hidden]
            if kind == "RNN":
                hn[bi] = acts[0](cl(part(0, xt[bi], w, wb) + part(0, h[bi], r, rb)))
            elif kind == "GRU":
                z = acts[0](cl(part(0, xt[bi], w, wb) + part(0, h[bi], r, rb)))
                rr = acts[0](cl(part(1, xt[bi], w, wb) + part(1, h[bi], r, rb)))
                if lbr:
                    ht = acts[1](cl(part(2, xt[bi], w, wb) + rr * part(2, h[bi], r, rb)))
                else:
                    ht = acts[1](cl(part(2, xt[bi], w, wb) + part(2, rr * h[bi], r, rb)))
                hn[bi] = (1 - z) * ht + z * h[bi]
            else:
                pi, po, pf = (p[:hidden], p[hidden:2 * hidden], p[2 * hidden:]) if p is not None \
                    else (0, 0, 0)
                i = acts[0](cl(part(0, xt[bi], w, wb) + part(0, h[bi], r, rb) + pi * c[bi]))
                f = acts[0](cl(part(2, xt[bi], w, wb) + part(2, h[bi], r, rb) + pf * c[bi]))
                cc = acts[1](cl(part(3, xt[bi], w, wb) + part(3, h[bi], r, rb)))
                cn[bi] = f * c[bi] + i * cc
                o = acts[0](cl(part(1, xt[bi], w, wb) + part(1, h[bi], r, rb) + po * cn[bi]))
                hn[bi] = o * acts[2](cn[bi])
            y[t, bi] = hn[bi]
        h, c = hn, cn
    return y, h, c


def make_case(out, name, kind, rng, s_len, batch, inp, hidden, direction="forward", layout=0,
              bias=True, initial=False, peep=False, lens=None, clip=None, lbr=0, acts=None,
              more=()):
    """`more`: further (s_len, batch, lens) data sets; with them the model declares its sequence
    and batch sizes symbolic."""
    g = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    nd = 2 if direction == "bidirectional" else 1
    f32 = lambda a: np.asarray(a, np.float32)
    w = f32(rng.standard_normal((nd, g * hidden, inp)) * 0.5)
    r = f32(rng.standard_normal((nd, g * hidden, hidden)) * 0.5)
    b = f32(rng.standard_normal((nd, 2 * g * hidden)) * 0.5) if bias else None
    p = f32(rng.standard_normal((nd, 3 * hidden)) * 0.5) if peep else None
    default = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}
    act_names = acts or default[kind]
    sets = [data_set(kind, rng, s, bt, l, inp, hidden, nd, direction, layout, w, r, b, p, initial,
                     clip, lbr, act_names) for s, bt, l in [(s_len, batch, lens), *more]]
    feeds, outs, names, node_inputs = sets[0]
    sym = {"X": ["S", "B", inp], "sequence_lens": ["B"], "initial_h": [nd, "B", hidden],
           "initial_c": [nd, "B", hidden]}
    out_sym = [["S", nd, "B", hidden], [nd, "B", hidden], [nd, "B", hidden]]
    if layout == 1:
        sym.update(X=["B", "S", inp], initial_h=["B", nd, hidden], initial_c=["B", nd, hidden])
        out_sym = [["B", "S", nd, hidden], ["B", nd, hidden], ["B", nd, hidden]]
    graph_inputs = []
    for n, v in zip(names, feeds):
        t = TensorProto.INT32 if n == "sequence_lens" else TensorProto.FLOAT
        graph_inputs.append(helper.make_tensor_value_info(n, t, sym.get(n, list(v.shape)) if more else list(v.shape)))
    out_names = ["Y", "Y_h", "Y_c"][:len(outs)]
    attrs = dict(hidden_size=hidden, direction=direction)
    if layout:
        attrs["layout"] = layout
    if clip is not None:
        attrs["clip"] = clip
    if kind == "GRU":
        attrs["linear_before_reset"] = lbr
    if acts:
        attrs["activations"] = acts * nd
    node = helper.make_node(kind, node_inputs, out_names, **attrs)
    graph = helper.make_graph(
        [node], name, graph_inputs,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, sym_o if more else list(o.shape))
         for n, o, sym_o in zip(out_names, outs, out_sym)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    save_case(out, name, model, [(feeds, outs) for feeds, outs, _, _ in sets])


def data_set(kind, rng, s_len, batch, lens, inp, hidden, nd, direction, layout, w, r, b, p,
             initial, clip, lbr, act_names):
    """Inputs and reference outputs at one sequence length and batch size: (feeds, outputs,
    names of the fed graph inputs, the node's input list)."""
    g = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    f32 = lambda a: np.asarray(a, np.float32)
    x = f32(rng.standard_normal((s_len, batch, inp)))
    h0 = f32(rng.standard_normal((nd, batch, hidden))) if initial else None
    c0 = f32(rng.standard_normal((nd, batch, hidden))) if initial and kind == "LSTM" else None
    ys, hs, cs = [], [], []
    for d in range(nd):
        y, h, c = run_direction(
            kind, x.astype(np.float64), w[d].astype(np.float64), r[d].astype(np.float64),
            b[d].astype(np.float64) if b is not None else np.zeros(2 * g * hidden),
            h0[d].astype(np.float64) if h0 is not None else np.zeros((batch, hidden)),
            (c0[d].astype(np.float64) if c0 is not None else np.zeros((batch, hidden)))
            if kind == "LSTM" else None,
            p[d].astype(np.float64) if p is not None else None, lens,
            [ACT[a] for a in act_names], direction == "reverse" or d == 1, clip, lbr)
        ys.append(y)
        hs.append(h)
        cs.append(c)
    y = np.stack(ys, axis=1)          # [S, nd, B, H]
    yh = np.stack(hs, axis=0)         # [nd, B, H]
    outs = [y, yh] + ([np.stack(cs, axis=0)] if kind == "LSTM" else [])
    xin, h0in, c0in = x, h0, c0
    if layout == 1:
        xin = np.transpose(x, (1, 0, 2))
        h0in = None if h0 is None else np.ascontiguousarray(np.transpose(h0, (1, 0, 2)))
        c0in = None if c0 is None else np.ascontiguousarray(np.transpose(c0, (1, 0, 2)))
        outs = [np.transpose(outs[0], (2, 0, 1, 3))] + [np.transpose(o, (1, 0, 2)) for o in outs[1:]]
    outs = [f32(o) for o in outs]

    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
    values = [xin, w, r, b, None if lens is None else np.asarray(lens, np.int32), h0in, c0in, p]
    node_inputs, graph_names, feeds = [], [], []
    last = max(i for i, v in enumerate(values) if v is not None)
    for i in range(last + 1):
        if values[i] is None:
            node_inputs.append("")
            continue
        node_inputs.append(names[i])
        graph_names.append(names[i])
        feeds.append(values[i])
    return feeds, outs, graph_names, node_inputs


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(3)
    make_case(out, "lstm_bidir", "LSTM", rng, 4, 2, 3, 5, direction="bidirectional",
              initial=True, peep=True, clip=2.5)
    make_case(out, "gru_reverse", "GRU", rng, 5, 2, 4, 3, direction="reverse", initial=True, lbr=1)
    make_case(out, "gru_forward", "GRU", rng, 3, 3, 2, 4, acts=["HardSigmoid", "Softsign"])
    make_case(out, "rnn_seqlens", "RNN", rng, 3, 3, 2, 4, lens=[3, 1, 2], acts=["Relu"])
    make_case(out, "lstm_batchfirst", "LSTM", rng, 4, 2, 3, 3, layout=1, lens=[2, 4])
    make_case(out, "lstm_dyn", "LSTM", rng, 4, 2, 3, 5, direction="bidirectional", initial=True,
              peep=True, more=[(7, 1, None), (1, 3, None)])
    make_case(out, "gru_dyn", "GRU", rng, 5, 2, 4, 3, direction="reverse", initial=True, lbr=1,
              more=[(2, 4, None)])
    make_case(out, "rnn_dyn_lens", "RNN", rng, 3, 3, 2, 4, lens=[3, 1, 2],
              more=[(5, 2, [4, 5])])
    make_case(out, "lstm_dyn_bf", "LSTM", rng, 4, 2, 3, 3, layout=1, initial=True,
              more=[(6, 3, None)])
    model = onnx.load(os.path.join(out, "lstm_dyn", "model.onnx"))
    for vi in model.graph.input:
        if vi.name in ("initial_h", "initial_c"):
            vi.type.tensor_type.shape.dim[1].dim_param = "B_" + vi.name
    d = os.path.join(out, "lstm_untied")
    shutil.copytree(os.path.join(out, "lstm_dyn", "test_data_set_0"),
                    os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    node = helper.make_node("LSTM", ["X", "W", "R"], ["Y"], hidden_size=3)
    graph = helper.make_graph(
        [node], "lstm_bad_w",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["S", "B", 4]),
         helper.make_tensor_value_info("W", TensorProto.FLOAT, [1, 12, 5]),
         helper.make_tensor_value_info("R", TensorProto.FLOAT, [1, 12, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    os.makedirs(os.path.join(out, "lstm_bad_w"))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]),
              os.path.join(out, "lstm_bad_w", "model.onnx"))
    bad = os.path.join(d, "bad_batch")
    shutil.copytree(os.path.join(d, "test_data_set_0"), bad)
    shutil.copy(os.path.join(out, "lstm_dyn", "test_data_set_1", "input_5.pb"), bad)


if __name__ == "__main__":
    main()
