#!/usr/bin/env python3
"""Writes MLIR modules using the compression dialects, plus expected outputs computed here with
numpy from first principles (an independent implementation of quantization, bit packing, N:M
pruning/packing and binary coding; see docs/packed-formats.md). Each case is a folder with
module.mlir and test_data_set_0/{input_K.pb, output_K.pb}.

Usage: make_compressed_cases.py OUT_DIR
"""
import os
import sys

import numpy as np
from onnx import numpy_helper

RNG = np.random.default_rng(1234)


def pack_codes(codes, bits):
    """Row-wise LSB-first bit stream of `bits`-bit codes (two's complement for negatives)."""
    rows, k = codes.shape
    nbytes = (k * bits + 7) // 8
    out = np.zeros((rows, nbytes), dtype=np.uint8)
    for r in range(rows):
        acc = 0
        for i in range(k):
            acc |= (int(codes[r, i]) & ((1 << bits) - 1)) << (i * bits)
        out[r] = [(acc >> (8 * b)) & 0xFF for b in range(nbytes)]
    return out.view(np.int8)


def nm_prune(w, n, m):
    out = np.zeros_like(w)
    rows, k = w.shape
    for r in range(rows):
        for g0 in range(0, k, m):
            grp = w[r, g0:g0 + m]
            order = sorted(range(len(grp)), key=lambda j: (-abs(grp[j]), j))
            for j in order[:n]:
                out[r, g0 + j] = grp[j]
    return out


def nm_pack(w, n, m):
    rows, k = w.shape
    groups = (k + m - 1) // m
    ibits = max(1, (m - 1).bit_length())
    values = np.zeros((rows, groups * n), dtype=w.dtype)
    pos = np.zeros((rows, groups * n), dtype=np.int64)
    for r in range(rows):
        for g in range(groups):
            grp = [w[r, g * m + j] if g * m + j < k else 0.0 for j in range(m)]
            taken = [j for j in range(m) if grp[j] != 0]
            assert len(taken) <= n
            for j in range(m):
                if len(taken) == n:
                    break
                if j not in taken:
                    taken.append(j)
            for s, j in enumerate(sorted(taken)):
                values[r, g * n + s] = grp[j]
                pos[r, g * n + s] = j
    return values, pack_codes(pos, ibits)


def group_params(w, bits, group, symmetric):
    rows, k = w.shape
    g = k if group == 0 else group
    ng = (k + g - 1) // g
    scales = np.zeros((rows, ng), np.float32)
    zps = np.zeros((rows, ng), np.int64)
    for r in range(rows):
        for j in range(ng):
            blk = w[r, j * g:(j + 1) * g]
            if symmetric:
                scales[r, j] = max(np.abs(blk).max(), 1e-8) / (2 ** (bits - 1) - 1)
            else:
                lo, hi = min(blk.min(), 0.0), max(blk.max(), 0.0)
                scales[r, j] = max(hi - lo, 1e-8) / (2 ** bits - 1)
                zps[r, j] = int(np.round(-lo / scales[r, j]))
    return scales, zps, g


def quantize(w, scales, zps, g, bits, signed):
    rows, k = w.shape
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    q = np.zeros(w.shape, np.int64)
    deq = np.zeros(w.shape, np.float32)
    for r in range(rows):
        for c in range(k):
            s, z = scales[r, c // g], zps[r, c // g]
            q[r, c] = int(np.clip(np.rint(w[r, c] / s) + z, lo, hi))
            deq[r, c] = (q[r, c] - z) * s
    return q, deq


def dense(name, arr):
    """An MLIR dense literal for a numpy array."""
    t = {np.float32: "f32", np.int8: "i8"}[arr.dtype.type]
    shape = "x".join(str(d) for d in arr.shape)
    body = np.array2string(arr, separator=", ", threshold=1 << 30, max_line_width=1 << 30,
                           formatter={"float_kind": lambda v: repr(float(v))})
    return f"%{name} = arith.constant dense<{body}> : tensor<{shape}x{t}>"


def ttype(a):
    t = {np.float32: "f32", np.int8: "i8"}[a.dtype.type]
    return "tensor<" + "x".join(str(d) for d in a.shape) + "x" + t + ">"


def write(out, name, inputs, outputs, body, consts):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    args = ", ".join(f'%{n}: {ttype(a)} {{sparq.name = "{n}"}}' for n, a in inputs)
    res = ", ".join(ttype(a) for _, a in outputs)
    lines = [f"func.func @main_graph({args}) -> ({res}) attributes {{sparq.entry}} {{"]
    lines += ["  " + dense(n, a) for n, a in consts]
    lines += ["  " + l for l in body]
    lines.append("  return " + ", ".join("%" + n for n, _ in outputs) + " : " + res)
    lines.append("}")
    with open(os.path.join(d, "module.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for kind, arrays in (("input", inputs), ("output", outputs)):
        for i, (_, a) in enumerate(arrays):
            with open(os.path.join(d, "test_data_set_0", f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a).SerializeToString())


def main():
    out = sys.argv[1]
    f32 = np.float32

    # 1. 4-bit signed symmetric, group 16 over K = 40 (last group has 8 values).
    m, k, n, bits = 3, 40, 6, 4
    x = RNG.standard_normal((m, k)).astype(f32)
    w = RNG.standard_normal((n, k)).astype(f32)
    s, z, g = group_params(w, bits, 16, True)
    q, deq = quantize(w, s, z, g, bits, True)
    scheme = f"#sparq_quant.scheme<bits = {bits}, signed, symmetric, group = 16>"
    write(out, "quant_matmul_g16", [("x", x)], [("y", (x @ deq.T).astype(f32))],
          [f"%y = sparq_weight.linear %x [%p, %s] formats [{scheme}] : ({ttype(x)}, tensor<{n}x{(k*bits+7)//8}xi8>, {ttype(s)}) -> tensor<{m}x{n}xf32>"],
          [("p", pack_codes(q, bits)), ("s", s)])

    # 2. 3-bit unsigned asymmetric per-channel, K = 21 (codes straddle bytes).
    m, k, n, bits = 2, 21, 5, 3
    x = RNG.standard_normal((m, k)).astype(f32)
    w = RNG.standard_normal((n, k)).astype(f32)
    s, z, g = group_params(w, bits, 0, False)
    q, deq = quantize(w, s, z, g, bits, False)
    scheme = f"#sparq_quant.scheme<bits = {bits}, unsigned, asymmetric, per_channel>"
    zp = z.astype(np.int8)
    write(out, "quant_matmul_u3_asym", [("x", x)], [("y", (x @ deq.T).astype(f32))],
          [f"%y = sparq_weight.linear %x [%p, %s, %z] formats [{scheme}] : ({ttype(x)}, tensor<{n}x{(k*bits+7)//8}xi8>, {ttype(s)}, {ttype(zp)}) -> tensor<{m}x{n}xf32>"],
          [("p", pack_codes(q, bits)), ("s", s), ("z", zp)])

    # 3. Quantize + pack at run time (weight is an input), then unpack + dequantize: the result
    #    is the numpy dequantized weight. 5-bit signed symmetric, group 7 over K = 19.
    rows, k, bits = 4, 19, 5
    w = RNG.standard_normal((rows, k)).astype(f32)
    s, z, g = group_params(w, bits, 7, True)
    q, deq = quantize(w, s, z, g, bits, True)
    scheme = f"#sparq_quant.scheme<bits = {bits}, signed, symmetric, group = 7>"
    pb = (k * bits + 7) // 8
    write(out, "quant_runtime_pack", [("w", w)], [("d", deq), ("pk", pack_codes(q, bits))],
          [f"%q = sparq_quant.quantize %w, %s {{scheme = {scheme}}} : ({ttype(w)}, {ttype(s)}) -> tensor<{rows}x{k}xi8>",
           f"%pk = sparq_quant.pack %q {{scheme = {scheme}}} : tensor<{rows}x{k}xi8> -> tensor<{rows}x{pb}xi8>",
           f"%u = sparq_quant.unpack %pk {{scheme = {scheme}}} : tensor<{rows}x{pb}xi8> -> tensor<{rows}x{k}xi8>",
           f"%d = sparq_quant.dequantize %u, %s {{scheme = {scheme}}} : (tensor<{rows}x{k}xi8>, {ttype(s)}) -> {ttype(w)}"],
          [("s", s)])

    # 4. Quantized conv, 4-bit per-channel, 3x3, stride 1, pad 1, with bias.
    nb, c, h, wd, f, bits = 1, 3, 5, 6, 4, 4
    x = RNG.standard_normal((nb, c, h, wd)).astype(f32)
    w4 = RNG.standard_normal((f, c, 3, 3)).astype(f32)
    b = RNG.standard_normal(f).astype(f32)
    w2 = w4.reshape(f, -1)
    s, z, g = group_params(w2, bits, 0, True)
    q, deq = quantize(w2, s, z, g, bits, True)
    wq = deq.reshape(f, c, 3, 3)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    y = np.zeros((nb, f, h, wd), f32)
    for i in range(h):
        for j in range(wd):
            y[:, :, i, j] = np.tensordot(xp[:, :, i:i + 3, j:j + 3], wq, axes=([1, 2, 3], [1, 2, 3]))
    y += b.reshape(1, f, 1, 1)
    scheme = f"#sparq_quant.scheme<bits = {bits}, signed, symmetric, per_channel>"
    kk = c * 9
    write(out, "quant_conv", [("x", x)], [("y", y.astype(f32))],
          [f"%y = sparq_weight.conv2d %x [%p, %s] bias %b formats [{scheme}] {{kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}} : ({ttype(x)}, tensor<{f}x{(kk*bits+7)//8}xi8>, {ttype(s)}, {ttype(b)}) -> {ttype(y)}"],
          [("p", pack_codes(q, bits)), ("s", s), ("b", b)])

    # 5. N:M at run time: prune (2:4) + pack an input weight with K = 30 (padded to 32), then
    #    sparse matmul; outputs are the packed values/indices and the product.
    m, k, n = 3, 30, 5
    x = RNG.standard_normal((m, k)).astype(f32)
    w = RNG.standard_normal((n, k)).astype(f32)
    w[0, 4:8] = [0.0, 0.0, 0.0, 1.5]  # a group with one non-zero keeps a zero too
    pr = nm_prune(w, 2, 4)
    vals, idx = nm_pack(pr, 2, 4)
    pat = "#sparq_nm.pattern<2:4>"
    write(out, "nm_runtime_2of4", [("x", x), ("w", w)],
          [("y", (x @ pr.T).astype(f32)), ("v", vals), ("i", idx)],
          [f"%p = sparq_nm.prune %w {{pattern = {pat}}} : {ttype(w)}",
           f"%v, %i = sparq_nm.pack %p {{pattern = {pat}}} : {ttype(w)} -> {ttype(vals)}, {ttype(idx)}",
           f"%y = sparq_weight.linear %x [%i, %v] formats [{pat}] : ({ttype(x)}, {ttype(idx)}, {ttype(vals)}) -> tensor<{m}x{n}xf32>"],
          [])

    # 6. 3:8 constant packed weight with K = 40, batched input [2, 3, K].
    k, n = 40, 4
    x = RNG.standard_normal((2, 3, k)).astype(f32)
    w = nm_prune(RNG.standard_normal((n, k)).astype(f32), 3, 8)
    vals, idx = nm_pack(w, 3, 8)
    pat = "#sparq_nm.pattern<3:8>"
    write(out, "nm_matmul_3of8_batched", [("x", x)], [("y", (x @ w.T).astype(f32))],
          [f"%y = sparq_weight.linear %x [%i, %v] formats [{pat}] : ({ttype(x)}, {ttype(idx)}, {ttype(vals)}) -> tensor<2x3x{n}xf32>"],
          [("v", vals), ("i", idx)])

    # 7. 1:4 sparse conv, 3x3 stride 2 pad 1, no bias.
    nb, c, h, wd, f = 1, 4, 7, 7, 3
    x = RNG.standard_normal((nb, c, h, wd)).astype(f32)
    w2 = nm_prune(RNG.standard_normal((f, c * 9)).astype(f32), 1, 4)
    vals, idx = nm_pack(w2, 1, 4)
    w4 = w2.reshape(f, c, 3, 3)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh = (h + 2 - 3) // 2 + 1
    y = np.zeros((nb, f, oh, oh), f32)
    for i in range(oh):
        for j in range(oh):
            y[:, :, i, j] = np.tensordot(xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3], w4,
                                         axes=([1, 2, 3], [1, 2, 3]))
    pat = "#sparq_nm.pattern<1:4>"
    write(out, "nm_conv_1of4", [("x", x)], [("y", y)],
          [f"%y = sparq_weight.conv2d %x [%i, %v] formats [{pat}] {{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}} : ({ttype(x)}, {ttype(idx)}, {ttype(vals)}) -> {ttype(y)}"],
          [("v", vals), ("i", idx)])

    # 8. 2:4 + 4-bit (kept values quantized, group 8 along the kept dimension), K = 32.
    m, k, n, bits = 2, 32, 3, 4
    x = RNG.standard_normal((m, k)).astype(f32)
    w = nm_prune(RNG.standard_normal((n, k)).astype(f32), 2, 4)
    vals, idx = nm_pack(w, 2, 4)
    s, z, g = group_params(vals, bits, 8, True)
    q, deqv = quantize(vals, s, z, g, bits, True)
    wd_ = np.zeros((n, k), f32)
    for r in range(n):
        for gi in range(k // 4):
            grp = [j for j in range(4) if w[r, gi * 4 + j] != 0]
            taken = sorted(grp + [j for j in range(4) if j not in grp][:2 - len(grp)])
            for sl, j in enumerate(taken):
                wd_[r, gi * 4 + j] = deqv[r, gi * 2 + sl]
    pat = "#sparq_nm.pattern<2:4>"
    scheme = f"#sparq_quant.scheme<bits = {bits}, signed, symmetric, group = 8>"
    codes = pack_codes(q, bits)
    write(out, "nm_quantized_2of4_w4", [("x", x)], [("y", (x @ wd_.T).astype(f32))],
          [f"%y = sparq_weight.linear %x [%i, %c, %s] formats [{pat}, {scheme}] : ({ttype(x)}, {ttype(idx)}, {ttype(codes)}, {ttype(s)}) -> tensor<{m}x{n}xf32>"],
          [("c", codes), ("i", idx), ("s", s)])

    # 9. Shift-add q = 2, group 8, K = 20: signs packed at run time from an input.
    m, k, n, qn, g = 2, 20, 3, 2, 8
    x = RNG.standard_normal((m, k)).astype(f32)
    signs = np.where(RNG.standard_normal((qn, n, k)) >= 0, 1.0, -1.0).astype(f32)
    ng = (k + g - 1) // g
    alpha = (np.abs(RNG.standard_normal((qn, n, ng))) + 0.1).astype(f32)
    wsum = np.zeros((n, k), f32)
    for p in range(qn):
        for c_ in range(k):
            wsum[:, c_] += alpha[p, :, c_ // g] * signs[p, :, c_]
    bits_packed = np.zeros((qn, n, (k + 7) // 8), np.uint8)
    for p in range(qn):
        for r in range(n):
            for c_ in range(k):
                if signs[p, r, c_] >= 0:
                    bits_packed[p, r, c_ // 8] |= 1 << (c_ % 8)
    cfg = f"#sparq_shiftadd.bcq<q = {qn}, group = {g}, pow2 = false>"
    ct = f"tensor<{qn}x{n}x{(k + 7) // 8}xi8>"
    write(out, "shiftadd_q2", [("x", x), ("b", signs)],
          [("y", (x @ wsum.T).astype(f32)), ("c", bits_packed.view(np.int8))],
          [f"%c = sparq_shiftadd.pack_signs %b {{config = {cfg}}} : {ttype(signs)} -> {ct}",
           f"%y = sparq_weight.linear %x [%c, %a] formats [{cfg}] : ({ttype(x)}, {ct}, {ttype(alpha)}) -> tensor<{m}x{n}xf32>"],
          [("a", alpha)])


if __name__ == "__main__":
    main()
