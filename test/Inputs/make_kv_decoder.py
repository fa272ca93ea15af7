#!/usr/bin/env python3
"""Writes a small Llama-style decoder layer with a KV cache whose sequence length S and cache
length P are both symbolic, in the backend-test layout, with expected outputs from numpy (an
independent reference). One compiled artifact runs prefill (S tokens, empty cache P = 0) and
decode (S = 1 with the cache the prefill produced).

Usage: make_kv_decoder.py OUT_DIR

Graph: RMSNorm -> Q/K/V projections -> heads [1, H, S, Dh] (Reshape to [1, -1, H, Dh]) -> RoPE at
positions P..P+S-1 (Range on Shape(past_key)[2] and Shape(x)[1], Gather from cos/sin tables) ->
K, V appended to the cache (Concat, the present_* outputs) -> causal mask built in the graph
(key position j > query position P + i) -> softmax(q kT / sqrt(Dh) + mask) v -> output
projection, residual, RMSNorm, SwiGLU MLP, residual.

kv_decoder/ data sets: prefill S = 128, P = 0; decode S = 1, P = 128 (the prefill's cache);
S = 3, P = 5.
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from backend_case import save_case, vi

D, H, DH, HID, MAXPOS = 64, 4, 16, 96, 160
F, I64 = TensorProto.FLOAT, TensorProto.INT64


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(17)
    w = {n: (rng.standard_normal(s) / np.sqrt(s[0])).astype(np.float32) for n, s in
         (("wq", (D, D)), ("wk", (D, D)), ("wv", (D, D)), ("wo", (D, D)),
          ("wg", (D, HID)), ("wu", (D, HID)), ("wd", (HID, D)))}
    g1 = (1 + 0.1 * rng.standard_normal(D)).astype(np.float32)
    g2 = (1 + 0.1 * rng.standard_normal(D)).astype(np.float32)
    inv = 1.0 / (10000 ** (np.arange(0, DH, 2) / DH))
    ang = np.arange(MAXPOS)[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(ang)] * 2, axis=1).astype(np.float32)   # [MAXPOS, DH]
    sin = np.concatenate([np.sin(ang)] * 2, axis=1).astype(np.float32)

    c = lambda name, a: numpy_helper.from_array(np.asarray(a), name)
    inits = [c(n, a) for n, a in w.items()] + [
        c("g1", g1), c("g2", g2), c("cos", cos), c("sin", sin), c("eps", np.float32(1e-6)),
        c("two", np.float32(2.0)), c("scale", np.float32(DH ** -0.5)),
        c("neg", np.float32(-1e9)), c("zero_f", np.float32(0.0)),
        c("heads", np.array([1, -1, H, DH], np.int64)), c("merged", np.array([1, -1, D], np.int64)),
        c("i0", np.array([0], np.int64)), c("i1", np.array([1], np.int64)),
        c("i2", np.array([2], np.int64)), c("i3", np.array([3], np.int64)),
        c("s0", np.int64(0)), c("s1", np.int64(1)),
        c("half", np.array([DH // 2], np.int64)), c("full", np.array([DH], np.int64)),
        c("axm1", np.array([-1], np.int64))]
    n = []
    node = lambda op, ins, outs, **kw: n.append(helper.make_node(op, ins, outs, **kw))

    def rms(x, gname, y):
        node("Pow", [x, "two"], [y + "_sq"])
        node("ReduceMean", [y + "_sq"], [y + "_ms"], axes=[-1], keepdims=1)
        node("Add", [y + "_ms", "eps"], [y + "_mse"])
        node("Sqrt", [y + "_mse"], [y + "_rms"])
        node("Div", [x, y + "_rms"], [y + "_n"])
        node("Mul", [y + "_n", gname], [y])

    # Positions P .. P+S-1 and T = P + S.
    node("Shape", ["past_key"], ["pk_shape"])
    node("Gather", ["pk_shape", "two_i"], ["P"], axis=0)
    node("Shape", ["x"], ["x_shape"])
    node("Gather", ["x_shape", "s1"], ["S"], axis=0)
    node("Add", ["P", "S"], ["T"])
    node("Range", ["P", "T", "s1"], ["pos"])
    node("Gather", ["cos", "pos"], ["cos_p"], axis=0)       # [S, DH]
    node("Gather", ["sin", "pos"], ["sin_p"], axis=0)
    # Mask [S, T]: key j > query P + i -> -1e9.
    node("Range", ["s0", "S", "s1"], ["qi"])
    node("Add", ["qi", "P"], ["qpos"])
    node("Unsqueeze", ["qpos", "axm1"], ["qpos_c"])           # [S, 1]
    node("Range", ["s0", "T", "s1"], ["kj"])                  # [T]
    node("Greater", ["kj", "qpos_c"], ["future"])             # [S, T]
    node("Where", ["future", "neg", "zero_f"], ["mask"])

    rms("x", "g1", "h")
    for t in ("q", "k", "v"):
        node("MatMul", ["h", "w" + t], [t + "_p"])
        node("Reshape", [t + "_p", "heads"], [t + "_h"])
        node("Transpose", [t + "_h"], [t + "_t"], perm=[0, 2, 1, 3])   # [1, H, S, DH]
    for t in ("q", "k"):
        node("Slice", [t + "_t", "i0", "half", "axm1"], [t + "_x1"])
        node("Slice", [t + "_t", "half", "full", "axm1"], [t + "_x2"])
        node("Neg", [t + "_x2"], [t + "_nx2"])
        node("Concat", [t + "_nx2", t + "_x1"], [t + "_rot"], axis=-1)
        node("Mul", [t + "_t", "cos_p"], [t + "_c"])
        node("Mul", [t + "_rot", "sin_p"], [t + "_s"])
        node("Add", [t + "_c", t + "_s"], [t + "_r"])
    node("Concat", ["past_key", "k_r"], ["present_key"], axis=2)
    node("Concat", ["past_value", "v_t"], ["present_value"], axis=2)
    node("Transpose", ["present_key"], ["kT"], perm=[0, 1, 3, 2])
    node("MatMul", ["q_r", "kT"], ["scores"])
    node("Mul", ["scores", "scale"], ["scaled"])
    node("Add", ["scaled", "mask"], ["masked"])
    node("Softmax", ["masked"], ["probs"], axis=-1)
    node("MatMul", ["probs", "present_value"], ["attn"])
    node("Transpose", ["attn"], ["attn_t"], perm=[0, 2, 1, 3])
    node("Reshape", ["attn_t", "merged"], ["attn_m"])
    node("MatMul", ["attn_m", "wo"], ["o"])
    node("Add", ["x", "o"], ["h1"])
    rms("h1", "g2", "h2")
    node("MatMul", ["h2", "wg"], ["gate"])
    node("Sigmoid", ["gate"], ["gs"])
    node("Mul", ["gate", "gs"], ["silu"])
    node("MatMul", ["h2", "wu"], ["up"])
    node("Mul", ["silu", "up"], ["gu"])
    node("MatMul", ["gu", "wd"], ["mlp"])
    node("Add", ["h1", "mlp"], ["y"])
    inits.append(c("two_i", np.int64(2)))

    g = helper.make_graph(
        n, "kv_decoder",
        [vi("x", F, [1, "S", D]), vi("past_key", F, [1, H, "P", DH]),
         vi("past_value", F, [1, H, "P", DH])],
        [vi("y", F, [1, "S", D]), vi("present_key", F, [1, H, "T", DH]),
         vi("present_value", F, [1, H, "T", DH])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])

    def reference(x, pk, pv):
        x, pk, pv = (a.astype(np.float64) for a in (x, pk, pv))
        p, s = pk.shape[2], x.shape[1]

        def rmsn(v, gg):
            return v / np.sqrt((v * v).mean(-1, keepdims=True) + 1e-6) * gg

        h = rmsn(x, g1)
        heads = lambda a: a.reshape(1, s, H, DH).transpose(0, 2, 1, 3)
        q, k, v = (heads(h @ w[t]) for t in ("wq", "wk", "wv"))
        cp, sp = cos[p:p + s].astype(np.float64), sin[p:p + s].astype(np.float64)
        rot = lambda a: np.concatenate([-a[..., DH // 2:], a[..., :DH // 2]], axis=-1)
        q, k = q * cp + rot(q) * sp, k * cp + rot(k) * sp
        kk, vv = np.concatenate([pk, k], 2), np.concatenate([pv, v], 2)
        sc = q @ kk.transpose(0, 1, 3, 2) * DH ** -0.5
        mask = np.where(np.arange(p + s)[None, :] > (p + np.arange(s))[:, None], -1e9, 0.0)
        sc = sc + mask
        pr = np.exp(sc - sc.max(-1, keepdims=True))
        pr /= pr.sum(-1, keepdims=True)
        a = (pr @ vv).transpose(0, 2, 1, 3).reshape(1, s, D)
        h1 = x + a @ w["wo"]
        h2 = rmsn(h1, g2)
        gate = h2 @ w["wg"]
        y = h1 + (gate / (1 + np.exp(-gate)) * (h2 @ w["wu"])) @ w["wd"]
        f32 = lambda a: a.astype(np.float32)
        return f32(y), f32(kk), f32(vv)

    sets = []
    x0 = rng.standard_normal((1, 128, D)).astype(np.float32)
    empty = np.zeros((1, H, 0, DH), np.float32)
    y0, k0, v0 = reference(x0, empty, empty)
    sets.append(([x0, empty, empty], [y0, k0, v0]))
    x1 = rng.standard_normal((1, 1, D)).astype(np.float32)
    sets.append(([x1, k0, v0], list(reference(x1, k0, v0))))
    x2 = rng.standard_normal((1, 3, D)).astype(np.float32)
    pk = rng.standard_normal((1, H, 5, DH)).astype(np.float32)
    pv = rng.standard_normal((1, H, 5, DH)).astype(np.float32)
    sets.append(([x2, pk, pv], list(reference(x2, pk, pv))))
    save_case(out, "kv_decoder", m, sets)


if __name__ == "__main__":
    main()
