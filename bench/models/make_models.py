#!/usr/bin/python3
"""Generates the benchmark models of bench/run.sh (see docs/bench.md).

Usage: make_models.py OUT_DIR [MODEL ...]      (default: every model)
       make_models.py --list

Writes OUT_DIR/<model>/model.onnx, OUT_DIR/<model>/test_data_set_0/input_K.pb (random inputs in the
ONNX backend-test layout, no expected outputs) and OUT_DIR/<model>/bench.json (what the model is,
its weight bytes and its matmul/conv FLOPs, and which roofline note run.sh prints for it).

Compressed variants (gemv_w4, mlp1_w4, ...) are the float32 model plus OUT_DIR/<model>/sparq_flags
(the sparq-compile flags that compress it, e.g. `--scheme w4g128`) and, where onnxruntime has a
kernel for the format, OUT_DIR/<model>/ort_model.onnx: the same graph with every MatMul on a
constant weight replaced by com.microsoft MatMulNBits (4-bit blocks of 128 along K, symmetric
with the default zero point 8, the weights quantized here by round to nearest), which run.sh
gives onnxruntime instead of model.onnx. bench.json names the float32 model the variant is
compared with ("baseline") and its weight bytes are the compressed ones.

Every model is float32, opset 17, fully static shapes, weights stored as initializers, drawn from
a fixed seed per model, so the files are identical from run to run. Every model is checked with
onnx.checker.check_model(full_check=True) (which runs strict shape inference) before it is saved.
Needs only numpy and onnx (Debian's python3-onnx is enough).
"""
import json
import os
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class Graph:
    """A small ONNX graph builder: nodes, initializers, inputs and outputs, unique names."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)            # weights
        self.input_rng = np.random.default_rng(seed + 1)  # inputs: never shift the weights
        self.nodes = []
        self.inits = []
        self.inputs = []
        self.outputs = []
        self.input_data = []
        self.counter = {}
        self.weight_bytes = 0
        self.flops = 0

    def fresh(self, base):
        n = self.counter.get(base, 0)
        self.counter[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def op(self, op_type, inputs, name=None, **attrs):
        out = self.fresh(name or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def op_n(self, op_type, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=outputs[0], **attrs))
        return outputs

    def const(self, name, array, weight=False):
        name = self.fresh(name)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        if weight:
            self.weight_bytes += np.asarray(array).nbytes
        return name

    def weight(self, name, shape, fan_in):
        w = (self.rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        return self.const(name, w, weight=True)

    def input(self, name, shape, scale=1.0):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        data = (self.input_rng.standard_normal(shape) * scale).astype(np.float32)
        self.input_data.append((name, data))
        return name

    def output(self, value, shape):
        self.outputs.append(helper.make_tensor_value_info(value, TensorProto.FLOAT, shape))

    def matmul(self, x, w, m, k, n, name=None):
        """x[..., M, K] x w[K, N]; counts 2*M*K*N flops (M includes any batch dims)."""
        self.flops += 2 * m * k * n
        return self.op("MatMul", [x, w], name=name)

    def model(self):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="sparq-bench")
        model.ir_version = 8  # what opset 17 was released with; readable by every runtime
        return model


# --------------------------------------------------------------------------------------------
# Models


def matmul_model(name, m, k=4096, n=4096):
    g = Graph(name, seed_of(name))
    x = g.input("x", [m, k])
    w = g.weight("w", [k, n], k)
    y = g.matmul(x, w, m, k, n, name="y")
    g.output(y, [m, n])
    return g


def silu(g, x):
    return g.op("Mul", [x, g.op("Sigmoid", [x])], name="silu")


def swiglu_mlp(g, x, rows, d, hidden, prefix=""):
    """down(silu(x Wg) * (x Wu)) on x[..., d] with `rows` rows in total."""
    wg = g.weight(prefix + "w_gate", [d, hidden], d)
    wu = g.weight(prefix + "w_up", [d, hidden], d)
    wd = g.weight(prefix + "w_down", [hidden, d], hidden)
    gate = g.matmul(x, wg, rows, d, hidden, name="gate")
    up = g.matmul(x, wu, rows, d, hidden, name="up")
    h = g.op("Mul", [silu(g, gate), up], name="gated")
    return g.matmul(h, wd, rows, hidden, d, name="down")


def mlp_model(name, tokens, d=2048, hidden=5632):
    g = Graph(name, seed_of(name))
    x = g.input("x", [tokens, d])
    y = swiglu_mlp(g, x, tokens, d, hidden)
    g.output(y, [tokens, d])
    return g


def rms_norm(g, x, d, eps=1e-5, prefix=""):
    """x / sqrt(mean(x^2) + eps) * gamma over the last axis, with primitive ops."""
    gamma = g.const(prefix + "norm_weight",
                    (1.0 + 0.1 * g.rng.standard_normal(d)).astype(np.float32), weight=True)
    sq = g.op("Pow", [x, g.const("two", np.array(2.0, np.float32))], name="sq")
    ms = g.op("ReduceMean", [sq], name="mean_sq", axes=[-1], keepdims=1)
    rms = g.op("Sqrt", [g.op("Add", [ms, g.const("eps", np.array(eps, np.float32))])], name="rms")
    return g.op("Mul", [g.op("Div", [x, rms], name="normed"), gamma], name="norm")


def rope_tables(positions, head_dim, base=10000.0):
    inv = 1.0 / base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    ang = np.outer(np.asarray(positions, np.float64), inv)       # [S, D/2]
    ang = np.concatenate([ang, ang], axis=1)                       # [S, D]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def rope(g, x, cos, sin, head_dim):
    """x*cos + rotate_half(x)*sin on x[B, H, S, D]; rotate_half(x) = concat(-x2, x1)."""
    half = head_dim // 2
    axis = g.const("axis3", np.array([3], np.int64))
    x1 = g.op("Slice", [x, g.const("zero", np.array([0], np.int64)),
                        g.const("half", np.array([half], np.int64)), axis], name="x1")
    x2 = g.op("Slice", [x, g.const("half", np.array([half], np.int64)),
                        g.const("full", np.array([head_dim], np.int64)), axis], name="x2")
    rot = g.op("Concat", [g.op("Neg", [x2]), x1], name="rot_half", axis=-1)
    return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rot, sin])], name="rope")


def decoder_model(name, seq, past=0, d=1024, heads=16, head_dim=64, hidden=2816):
    """A Llama-style decoder layer (pre-norm attention + SwiGLU MLP, residual adds).

    past == 0: prefill of `seq` tokens with a causal mask initializer.
    past > 0:  decode of `seq` (=1) new tokens at positions past..past+seq-1 with KV cache
               inputs past_key/past_value [1, H, past, D]; outputs y, present_key, present_value.
    """
    assert heads * head_dim == d
    # Same seed for both variants: decode and prefill run the same layer.
    g = Graph(name, seed_of("decoder"))
    total = past + seq
    x = g.input("x", [1, seq, d])
    if past:
        past_k = g.input("past_key", [1, heads, past, head_dim])
        past_v = g.input("past_value", [1, heads, past, head_dim])

    h = rms_norm(g, x, d, prefix="attn_")
    to_heads = g.const("to_heads", np.array([1, seq, heads, head_dim], np.int64))
    from_heads = g.const("from_heads", np.array([1, seq, d], np.int64))
    cos, sin = rope_tables(range(past, total), head_dim)
    cos = g.const("rope_cos", cos)
    sin = g.const("rope_sin", sin)

    def project(tag):
        w = g.weight("w_" + tag, [d, d], d)
        p = g.matmul(h, w, seq, d, d, name=tag)
        p = g.op("Reshape", [p, to_heads], name=tag + "_heads")
        return g.op("Transpose", [p], name=tag + "_bhsd", perm=[0, 2, 1, 3])   # [1, H, S, D]

    q = rope(g, project("q"), cos, sin, head_dim)
    k = rope(g, project("k"), cos, sin, head_dim)
    v = project("v")
    if past:
        k = g.op_n("Concat", [past_k, k], ["present_key"], axis=2)[0]
        v = g.op_n("Concat", [past_v, v], ["present_value"], axis=2)[0]

    kt = g.op("Transpose", [k], name="k_t", perm=[0, 1, 3, 2])                   # [1, H, D, T]
    scores = g.op("MatMul", [q, kt], name="scores")                               # [1, H, S, T]
    g.flops += 2 * heads * seq * head_dim * total
    scores = g.op("Mul", [scores, g.const("scale", np.array(head_dim ** -0.5, np.float32))],
                  name="scaled")
    if not past:
        mask = np.triu(np.full((seq, seq), -1e9, np.float32), k=1)
        scores = g.op("Add", [scores, g.const("causal_mask", mask)], name="masked")
    probs = g.op("Softmax", [scores], name="probs", axis=-1)
    attn = g.op("MatMul", [probs, v], name="attn")                                # [1, H, S, D]
    g.flops += 2 * heads * seq * total * head_dim
    attn = g.op("Transpose", [attn], name="attn_bshd", perm=[0, 2, 1, 3])
    attn = g.op("Reshape", [attn, from_heads], name="attn_merged")
    o = g.matmul(attn, g.weight("w_o", [d, d], d), seq, d, d, name="o")
    h1 = g.op("Add", [x, o], name="resid1")

    m = swiglu_mlp(g, rms_norm(g, h1, d, prefix="mlp_"), seq, d, hidden)
    y = g.op("Add", [h1, m], name="y")
    g.output(y, [1, seq, d])
    if past:
        g.output(k, [1, heads, total, head_dim])
        g.output(v, [1, heads, total, head_dim])
    return g


def attention_model(name, seq, heads=8, head_dim=64, causal=True, keys=None):
    """softmax(Q K^T / sqrt(D) + mask) V on Q [1, H, S, D], K and V [1, H, T, D] (inputs; T =
    `keys`, default S), with a causal mask initializer [S, S] (0 on and below the diagonal, -1e9
    above) when `causal`."""
    g = Graph(name, seed_of(name))
    keys = keys or seq
    q = g.input("q", [1, heads, seq, head_dim])
    k, v = (g.input(t, [1, heads, keys, head_dim]) for t in ("k", "v"))
    kt = g.op("Transpose", [k], name="k_t", perm=[0, 1, 3, 2])
    scores = g.op("MatMul", [q, kt], name="scores")
    scores = g.op("Mul", [scores, g.const("scale", np.array(head_dim ** -0.5, np.float32))],
                  name="scaled")
    if causal:
        mask = np.triu(np.full((seq, seq), -1e9, np.float32), k=1)
        scores = g.op("Add", [scores, g.const("causal_mask", mask)], name="masked")
    probs = g.op("Softmax", [scores], name="probs", axis=-1)
    y = g.op("MatMul", [probs, v], name="attn")
    g.flops += 4 * heads * seq * keys * head_dim
    g.output(y, [1, heads, seq, head_dim])
    return g


def conv(g, x, cin, cout, k, hw, group=1, relu=True, tag="conv", stride=1):
    """Conv k x k, 'same' padding, with bias; `hw` is the (square) output size."""
    w = g.weight(tag + "_w", [cout, cin // group, k, k], cin // group * k * k)
    b = g.const(tag + "_b", (0.1 * g.rng.standard_normal(cout)).astype(np.float32),
                weight=True)
    p = k // 2
    y = g.op("Conv", [x, w, b], name=tag, kernel_shape=[k, k], pads=[p, p, p, p], group=group,
             strides=[stride, stride])
    g.flops += 2 * cout * (cin // group) * k * k * hw * hw
    return g.op("Relu", [y], name=tag + "_relu") if relu else y


def resnet_bottleneck_model(name, c=256, mid=64, hw=56):
    g = Graph(name, seed_of(name))
    x = g.input("x", [1, c, hw, hw])
    y = conv(g, x, c, mid, 1, hw, tag="conv1")
    y = conv(g, y, mid, mid, 3, hw, tag="conv2")
    y = conv(g, y, mid, c, 1, hw, relu=False, tag="conv3")
    y = g.op("Relu", [g.op("Add", [y, x], name="residual")], name="y")
    g.output(y, [1, c, hw, hw])
    return g


def depthwise_block_model(name, c=64, expand=256, hw=56):
    g = Graph(name, seed_of(name))
    x = g.input("x", [1, c, hw, hw])
    y = conv(g, x, c, expand, 1, hw, tag="expand")
    y = conv(g, y, expand, expand, 3, hw, group=expand, tag="depthwise")
    y = conv(g, y, expand, c, 1, hw, relu=False, tag="project")
    y = g.op("Add", [y, x], name="y")
    g.output(y, [1, c, hw, hw])
    return g


def resnet_projection_model(name, cin=64, mid=64, cout=256, hw=56):
    """The first bottleneck of ResNet-50's stage 1: a 1x1 projection on the shortcut."""
    g = Graph(name, seed_of(name))
    x = g.input("x", [1, cin, hw, hw])
    y = conv(g, x, cin, mid, 1, hw, tag="conv1")
    y = conv(g, y, mid, mid, 3, hw, tag="conv2")
    y = conv(g, y, mid, cout, 1, hw, relu=False, tag="conv3")
    s = conv(g, x, cin, cout, 1, hw, relu=False, tag="projection")
    y = g.op("Relu", [g.op("Add", [y, s], name="residual")], name="y")
    g.output(y, [1, cout, hw, hw])
    return g


def cnn_blocks_model(name, hw=56):
    """A small MobileNetV2-style network: stem, inverted residual blocks (with and without a
    skip, one with a stride-2 depthwise), global average pooling and a classifier."""
    g = Graph(name, seed_of(name))
    x = g.input("x", [1, 16, hw, hw])
    y = conv(g, x, 16, 32, 3, hw, tag="stem")
    c = 32
    for i, (cout, stride, expand) in enumerate([(32, 1, 4), (32, 1, 4), (64, 2, 4), (64, 1, 4),
                                                 (64, 1, 4)]):
        out_hw = hw // stride
        h = conv(g, y, c, c * expand, 1, hw, tag=f"b{i}_expand")
        h = conv(g, h, c * expand, c * expand, 3, out_hw, group=c * expand, stride=stride,
                 tag=f"b{i}_dw")
        h = conv(g, h, c * expand, cout, 1, out_hw, relu=False, tag=f"b{i}_project")
        y = g.op("Add", [h, y], name=f"b{i}_add") if stride == 1 and cout == c else h
        c, hw = cout, out_hw
    y = g.op("GlobalAveragePool", [y], name="pool")
    y = g.op("Flatten", [y], name="flatten", axis=1)
    w = g.weight("fc_w", [c, 10], c)
    y = g.op("MatMul", [y, w], name="y")
    g.flops += 2 * c * 10
    g.output(y, [1, 10])
    return g


def seed_of(name):
    return zlib.crc32(name.encode())


def matmulnbits_model(model, block=128, accuracy_level=4):
    """`model` with each MatMul on a constant [K, N] weight as a 4-bit MatMulNBits node."""
    ort = onnx.ModelProto()
    ort.CopyFrom(model)
    graph = ort.graph
    inits = {t.name: t for t in graph.initializer}
    nodes = []
    for node in graph.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2 or w.dims[0] % block:
            nodes.append(node)
            continue
        k, n = w.dims
        wt = numpy_helper.to_array(w).T.reshape(n, k // block, block)   # [N, blocks, block]
        scale = np.abs(wt).max(axis=2) / 7.0
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(wt / scale[:, :, None]) + 8, 0, 15).astype(np.uint8)
        packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)  # low nibble first
        b_name, s_name = node.input[1] + "_q4", node.input[1] + "_scales"
        graph.initializer.append(numpy_helper.from_array(packed, b_name))
        graph.initializer.append(
            numpy_helper.from_array(scale.astype(np.float32).reshape(-1), s_name))
        attrs = dict(K=k, N=n, bits=4, block_size=block)
        if accuracy_level is not None:
            attrs["accuracy_level"] = accuracy_level
        nodes.append(helper.make_node("MatMulNBits", [node.input[0], b_name, s_name],
                                      list(node.output), name=node.name,
                                      domain="com.microsoft", **attrs))
    used = {i for nd in nodes for i in nd.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    ort.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return ort


def compressed(base, scheme, bytes_per_weight, ort_accuracy=None, ort=True, flags=()):
    """A compressed variant of MODELS[base]: sparq compiles it with --scheme `scheme` (and
    `flags`)."""
    return {"base": base, "scheme": scheme, "flags": ["--scheme", scheme, *flags],
            "bytes_per_weight": bytes_per_weight, "ort": ort, "ort_accuracy": ort_accuracy}


# name -> (builder, description, roofline note kind: None | "bandwidth" | "fma")
MODELS = {
    "gemv": (lambda: matmul_model("gemv", 1),
             "MatMul [1,4096] x W[4096,4096]", "bandwidth"),
    "gemm16": (lambda: matmul_model("gemm16", 16),
               "MatMul [16,4096] x W[4096,4096]", None),
    "gemm128": (lambda: matmul_model("gemm128", 128),
                "MatMul [128,4096] x W[4096,4096]", "fma"),
    "mlp1": (lambda: mlp_model("mlp1", 1),
             "Llama SwiGLU MLP d=2048 hidden=5632, 1 token", None),
    "mlp16": (lambda: mlp_model("mlp16", 16),
              "Llama SwiGLU MLP d=2048 hidden=5632, 16 tokens", None),
    "mlp128": (lambda: mlp_model("mlp128", 128),
               "Llama SwiGLU MLP d=2048 hidden=5632, 128 tokens", None),
    "decoder_prefill": (lambda: decoder_model("decoder_prefill", 128),
                        "Llama decoder layer d=1024 16x64 heads MLP 2816, prefill 128 tokens",
                        None),
    "decoder_decode": (lambda: decoder_model("decoder_decode", 1, past=127),
                       "same layer, decode 1 token with a 127-token KV cache", None),
    "attention2048": (lambda: attention_model("attention2048", 2048),
                      "causal attention 8 heads x 64, sequence 2048 (Q, K, V inputs)", None),
    "attention512": (lambda: attention_model("attention512", 512, causal=False),
                     "attention 8 heads x 64, sequence 512, no mask", None),
    "attention_decode": (lambda: attention_model("attention_decode", 1, causal=False,
                                                 keys=4096),
                         "attention 8 heads x 64, 1 query over 4096 cached keys", None),
    "resnet_bottleneck": (lambda: resnet_bottleneck_model("resnet_bottleneck"),
                          "ResNet bottleneck 256-64-64-256 on 56x56, identity shortcut", None),
    "depthwise_block": (lambda: depthwise_block_model("depthwise_block"),
                        "inverted residual 64-256(dw 3x3)-64 on 56x56", None),
    "resnet_projection": (lambda: resnet_projection_model("resnet_projection"),
                          "ResNet bottleneck 64-64-64-256 on 56x56, 1x1 projection shortcut",
                          None),
    "cnn_blocks": (lambda: cnn_blocks_model("cnn_blocks"),
                   "MobileNetV2-style CNN: stem, 5 inverted residual blocks, pool, classifier",
                   None),
}

# Compressed variants: name -> compressed(base model, sparq scheme, weight bytes per weight,
# onnxruntime MatMulNBits accuracy_level (None: unset), whether onnxruntime runs MatMulNBits).
# Bytes per weight: codes + one f32 scale per group of 128 (kept values for N:M, plus their
# 2-bit positions).
W4 = 0.5 + 4 / 128
NM24 = 0.5 * 4 + 0.5 * 2 / 8
NM24W4 = 0.5 * 0.5 + 0.5 * 2 / 8 + 0.5 * 4 / 128
NM14W4 = 0.25 * 0.5 + 0.25 * 2 / 8 + 0.25 * 4 / 128
COMPRESSED = {
    "gemv_w4": compressed("gemv", "w4g128", 0.5 + 4 / 128, ort_accuracy=4),
    "gemv_w4u": compressed("gemv", "w4g128", 0.5 + 4 / 128, ort_accuracy=None),
    "gemv_w2": compressed("gemv", "w2g128", 0.25 + 4 / 128, ort=False),
    "gemv_w8": compressed("gemv", "w8g128", 1 + 4 / 128, ort=False),
    "gemv_w3": compressed("gemv", "w3g128", 3 / 8 + 4 / 128, ort=False),
    "gemv_w2_i8": compressed("gemv", "w2g128", 0.25 + 4 / 128, ort=False,
                             flags=["--act-bits", "8"]),
    "gemv_w8_i8": compressed("gemv", "w8g128", 1 + 4 / 128, ort=False, flags=["--act-bits", "8"]),
    "gemv_14w4": compressed("gemv", "1:4,w4g128", NM14W4, ort=False),
    "gemm16_w4": compressed("gemm16", "w4g128", 0.5 + 4 / 128, ort_accuracy=4),
    "gemm128_w4": compressed("gemm128", "w4g128", 0.5 + 4 / 128, ort_accuracy=4),
    "mlp1_w4": compressed("mlp1", "w4g128", 0.5 + 4 / 128, ort_accuracy=4),
    "mlp16_w4": compressed("mlp16", "w4g128", W4, ort_accuracy=4),
    "gemv_w4_i8": compressed("gemv", "w4g128", W4, ort_accuracy=4, flags=["--act-bits", "8"]),
    "mlp1_w4_i8": compressed("mlp1", "w4g128", W4, ort_accuracy=4, flags=["--act-bits", "8"]),
    "gemm16_w4_i8": compressed("gemm16", "w4g128", W4, ort_accuracy=4, flags=["--act-bits", "8"]),
    "gemm128_w4_i8": compressed("gemm128", "w4g128", W4, ort_accuracy=4,
                                flags=["--act-bits", "8"]),
    "mlp128_w4_i8": compressed("mlp128", "w4g128", W4, ort_accuracy=4, flags=["--act-bits", "8"]),
    "mlp128_w4": compressed("mlp128", "w4g128", W4, ort_accuracy=4),
    "decoder_prefill_w4": compressed("decoder_prefill", "w4g128", W4, ort_accuracy=4),
    "decoder_decode_w4": compressed("decoder_decode", "w4g128", W4, ort_accuracy=4),
    "decoder_decode_w4_i8": compressed("decoder_decode", "w4g128", W4, ort_accuracy=4,
                                       flags=["--act-bits", "8"]),
    "gemv_sa2": compressed("gemv", "sa2g128", 2 / 8 + 2 * 4 / 128, ort=False),
    "gemv_sa3": compressed("gemv", "sa3g128", 3 / 8 + 3 * 4 / 128, ort=False),
    "gemv_sa2_i8": compressed("gemv", "sa2g128", 2 / 8 + 2 * 4 / 128, ort=False,
                              flags=["--act-bits", "8"]),
    "gemv_sa3_i8": compressed("gemv", "sa3g128", 3 / 8 + 3 * 4 / 128, ort=False,
                              flags=["--act-bits", "8"]),
    "gemv_24": compressed("gemv", "2:4", NM24, ort=False),
    "gemv_24w4": compressed("gemv", "2:4,w4g128", NM24W4, ort=False),
    "gemv_24w4_i8": compressed("gemv", "2:4,w4g128", NM24W4, ort=False,
                               flags=["--act-bits", "8"]),
    "gemm128_24": compressed("gemm128", "2:4", NM24, ort=False),
    "gemm128_24w4": compressed("gemm128", "2:4,w4g128", NM24W4, ort=False),
    # A CNN whose convolutions (and classifier) are compressed: the blocks run on the one-pass
    # block kernel with filters decoded at each call. Per-channel scales: one f32 per output
    # channel of 32-576 weights (about 1/64 of a byte per weight counted).
    "cnn_blocks_w8": compressed("cnn_blocks", "w8pc", 1 + 4 / 64, ort=False),
    "cnn_blocks_24w4": compressed("cnn_blocks", "2:4,w4pc", NM24W4, ort=False),
}


def write_model(out_dir, name):
    variant = COMPRESSED.get(name)
    build, description, note = MODELS[variant["base"] if variant else name]
    g = build()
    model = g.model()
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if not all(dim.HasField("dim_value") for dim in dims):
            raise SystemExit(f"make_models.py: {name}: shape of '{vi.name}' is not static")

    folder = os.path.join(out_dir, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    tmp = os.path.join(folder, "model.onnx.tmp")
    onnx.save(model, tmp)
    for k, (input_name, array) in enumerate(g.input_data):
        tensor = numpy_helper.from_array(array, input_name)
        with open(os.path.join(data, f"input_{k}.pb"), "wb") as f:
            f.write(tensor.SerializeToString())
    weight_bytes = g.weight_bytes
    if variant:
        extra = " ".join(variant["flags"][2:])
        description = f"{description}, weights {variant['scheme']}{' ' + extra if extra else ''}"
        weight_bytes = int(g.weight_bytes / 4 * variant["bytes_per_weight"])
        with open(os.path.join(folder, "sparq_flags"), "w") as f:
            f.write(" ".join(variant["flags"]) + "\n")
        if variant["ort"]:
            level = variant["ort_accuracy"]
            onnx.save(matmulnbits_model(model, accuracy_level=level),
                      os.path.join(folder, "ort_model.onnx"))
            description += (f"; onnxruntime MatMulNBits 4-bit/128, accuracy_level "
                            f"{'unset' if level is None else level}")
    meta = {
        "name": name,
        "description": description,
        "baseline": variant["base"] if variant else None,
        "weight_bytes": weight_bytes,
        "flops": g.flops,
        "note": note,
        "inputs": {n: list(a.shape) for n, a in g.input_data},
    }
    with open(os.path.join(folder, "bench.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(folder, "model.onnx"))   # model.onnx last: marks completion
    print(f"  {name:18s} {weight_bytes / 1e6:8.1f} MB weights {g.flops / 1e9:8.2f} GFLOP"
          f"  {description}")


def main(argv):
    known = list(MODELS) + list(COMPRESSED)
    if len(argv) == 2 and argv[1] == "--list":
        print(" ".join(known))
        return 0
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    names = argv[2:] or known
    for name in names:
        if name not in known:
            print(f"make_models.py: error: unknown model '{name}' (known: {' '.join(known)})",
                  file=sys.stderr)
            return 2
    for name in names:
        write_model(argv[1], name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
