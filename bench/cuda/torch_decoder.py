#!/usr/bin/env python3
"""The bench model decoder_decode (bench/models/make_models.py: a Llama-style decoder layer, one
new token against a KV cache of 127) as PyTorch fp16 eager code, the baseline of issue 14's
"whole compressed decoder layer, decode step" goal: the same weights (the compressed model's
dequantized twin, so both sides compute the same function), timed with CUDA events.

The layer is written once against a tiny array interface (`Ops`) with a numpy and a torch
implementation, so that this machine (no torch) checks the math of the numpy path against
sparq's own CPU outputs (--numpy), and the GPU machine runs the same code on torch.

DIR (made by test/cuda/prepare_device.sh) holds weights/NAME.npy (the dequantized model's
initializers), inputs/x.npy, past_key.npy, past_value.npy and expect/y.npy (sparq's CPU outputs
for the compressed model).

Usage: torch_decoder.py DIR [--numpy] [--rounds N] [--iters N]
       torch_decoder.py --export DEQUANTIZED.onnx TEST_DATA_DIR SPARQ_OUTPUT_DIR DIR   (needs onnx)
"""
import os
import sys
import time

import numpy as np


class NumpyOps:
    name = "numpy float32"

    def __init__(self):
        self.xp = np

    def array(self, a):
        return np.asarray(a, np.float32)

    def host(self, t):
        return np.asarray(t, np.float32)

    def matmul(self, a, b):
        return a @ b

    def cat(self, ts, axis):
        return np.concatenate(ts, axis=axis)

    def permute(self, t, perm):
        return np.transpose(t, perm)

    def mean(self, t, axis):
        return t.mean(axis=axis, keepdims=True)

    def sqrt(self, t):
        return np.sqrt(t)

    def sigmoid(self, t):
        return 1.0 / (1.0 + np.exp(-t))

    def softmax(self, t, axis):
        e = np.exp(t - t.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


class TorchOps:
    def __init__(self, torch, device):
        self.torch, self.device = torch, device
        self.name = "torch float16 eager on " + torch.cuda.get_device_name(device)

    def array(self, a):
        return self.torch.from_numpy(np.ascontiguousarray(a, np.float32)).to(
            self.device, self.torch.float16)

    def host(self, t):
        return t.float().cpu().numpy()

    def matmul(self, a, b):
        return self.torch.matmul(a, b)

    def cat(self, ts, axis):
        return self.torch.cat(ts, dim=axis)

    def permute(self, t, perm):
        return t.permute(*perm)

    def mean(self, t, axis):
        return t.mean(dim=axis, keepdim=True)

    def sqrt(self, t):
        return self.torch.sqrt(t)

    def sigmoid(self, t):
        return self.torch.sigmoid(t)

    def softmax(self, t, axis):
        return self.torch.softmax(t, dim=axis)


def decoder_step(ops, w, x, past_k, past_v, heads=16, head_dim=64, eps=1e-5):
    """y, present_key, present_value of the layer for x [1, 1, d] (make_models.decoder_model)."""
    d = heads * head_dim
    seq = x.shape[1]

    def rms_norm(t, gamma):
        return t / ops.sqrt(ops.mean(t * t, -1) + eps) * gamma

    def heads_of(p):  # [1, S, d] -> [1, H, S, D]
        return ops.permute(p.reshape(1, seq, heads, head_dim), (0, 2, 1, 3))

    def rope(t):
        half = head_dim // 2
        rot = ops.cat([-t[..., half:], t[..., :half]], -1)
        return t * w["rope_cos"] + rot * w["rope_sin"]

    h = rms_norm(x, w["attn_norm_weight"])
    q = rope(heads_of(ops.matmul(h, w["w_q"])))
    k = ops.cat([past_k, rope(heads_of(ops.matmul(h, w["w_k"])))], 2)
    v = ops.cat([past_v, heads_of(ops.matmul(h, w["w_v"]))], 2)
    scores = ops.matmul(q, ops.permute(k, (0, 1, 3, 2))) * (head_dim ** -0.5)
    attn = ops.matmul(ops.softmax(scores, -1), v)
    attn = ops.permute(attn, (0, 2, 1, 3)).reshape(1, seq, d)
    h1 = x + ops.matmul(attn, w["w_o"])
    m = rms_norm(h1, w["mlp_norm_weight"])
    gate = ops.matmul(m, w["w_gate"])
    up = ops.matmul(m, w["w_up"])
    y = h1 + ops.matmul(gate * ops.sigmoid(gate) * up, w["w_down"])
    return y, k, v


def export(model_path, data_dir, out_dir, root):
    """Writes DIR from the dequantized model, its test inputs and sparq's CPU outputs."""
    import onnx
    from onnx import numpy_helper

    def pb(path):
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        return numpy_helper.to_array(t)

    for sub in ("weights", "inputs", "expect"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    model = onnx.load(model_path)
    for init in model.graph.initializer:
        np.save(os.path.join(root, "weights", init.name + ".npy"), numpy_helper.to_array(init))
    for i, name in enumerate(("x", "past_key", "past_value")):
        np.save(os.path.join(root, "inputs", name + ".npy"),
                pb(os.path.join(data_dir, f"input_{i}.pb")))
    np.save(os.path.join(root, "expect", "y.npy"), pb(os.path.join(out_dir, "output_0.pb")))
    return 0


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    if args[0] == "--export" and len(args) == 5:
        return export(*args[1:])
    root = args[0]
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 5
    iters = int(args[args.index("--iters") + 1]) if "--iters" in args else 200
    load = lambda sub, n: np.load(os.path.join(root, sub, n + ".npy"))
    names = ["attn_norm_weight", "mlp_norm_weight", "w_q", "w_k", "w_v", "w_o", "w_gate", "w_up",
             "w_down", "rope_cos", "rope_sin"]
    if "--numpy" in args:
        ops, sync = NumpyOps(), lambda: None
    else:
        import torch
        ops, sync = TorchOps(torch, 0), torch.cuda.synchronize
    w = {n: ops.array(load("weights", n)) for n in names}
    x, pk, pv = (ops.array(load("inputs", n)) for n in ("x", "past_key", "past_value"))
    y, k, v = decoder_step(ops, w, x, pk, pv)
    expect = load("expect", "y")
    err = np.abs(ops.host(y) - expect).max()
    print(f"{ops.name}: max |y - sparq CPU| = {err:.3g} (|y| max {np.abs(expect).max():.3g})")
    times = []
    for _ in range(rounds):
        sync()
        t0 = time.perf_counter()
        for _ in range(iters):
            decoder_step(ops, w, x, pk, pv)
        sync()
        times.append((time.perf_counter() - t0) / iters * 1e3)
    times.sort()
    print(f"{ops.name}: decode step {times[len(times) // 2]:.4f} ms median of {rounds} rounds "
          f"of {iters} (min {times[0]:.4f}, max {times[-1]:.4f})")
    return 0 if err < 5e-2 else 1


if __name__ == "__main__":
    sys.exit(main())
