"""Models, calibration samples and held-out data for test/Driver/calibration.test.

  make_calibration_cases.py gen OUT        writes OUT/{mlp,conv}/model.onnx, calib/sample_K/
                                           (calibration inputs), eval/test_data_set_K/ (held-out
                                           inputs and numpy float64 outputs), and bad inputs
  make_calibration_cases.py report R.json  checks a --report: every layer's output error is at
                                           most round-to-nearest's and prints the methods
  make_calibration_cases.py budget R.json B
                                           checks a --target-bits report: total within B, every
                                           choice one of its candidates and undominated
  make_calibration_cases.py heldout CASE A B
                                           relative output error on CASE/eval of the outputs
                                           sparq-run wrote under A/K and B/K (K = data set);
                                           prints 'A < B' when A's is lower

The inputs have correlated channels and a few large ones, as activations of trained networks
do, which is what makes data-aware compression pay off.
"""
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backend_case import model, vi  # noqa: E402


def correlated(rng, shape, channel_axis):
    c = shape[channel_axis]
    mix = rng.normal(0, 0.5, (c, c)) + np.eye(c)
    z = rng.normal(0, 1, shape)
    x = np.moveaxis(np.moveaxis(z, channel_axis, -1) @ mix.T, -1, channel_axis)
    scale = np.where(np.arange(c) % 7 == 0, 5.0, 1.0)
    bshape = [1] * len(shape)
    bshape[channel_axis] = c
    return (x * scale.reshape(bshape)).astype(np.float32)


def write_pb(path, a):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(a).SerializeToString())


def mlp(rng):
    w1 = rng.normal(0, 0.2, (64, 96)).astype(np.float32)
    w2 = rng.normal(0, 0.2, (96, 48)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [8, 64])], [vi("y", TensorProto.FLOAT, [8, 48])],
              [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])

    def ref(x):
        return (np.maximum(x.astype(np.float64) @ w1, 0) @ w2).astype(np.float32)
    return m, (lambda: correlated(rng, (8, 64), 1)), ref


def conv(rng):
    w1 = rng.normal(0, 0.2, (16, 8, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 0.2, (12, 16, 1, 1)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["h"], name="conv3x3", pads=[1, 1, 1, 1],
                              strides=[2, 2]),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w2"], ["y"], name="conv1x1")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [1, 8, 11, 11])],
              [vi("y", TensorProto.FLOAT, [1, 12, 6, 6])],
              [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])

    def conv2d(x, w, stride, pad):
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
        y = np.zeros((n, o, oh, ow))
        for i in range(kh):
            for j in range(kw):
                patch = x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
                y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
        return y

    def ref(x):
        h = np.maximum(conv2d(x.astype(np.float64), w1.astype(np.float64), 2, 1), 0)
        return conv2d(h, w2.astype(np.float64), 1, 0).astype(np.float32)
    return m, (lambda: correlated(rng, (1, 8, 11, 11), 1)), ref


def gen(out):
    rng = np.random.default_rng(7)
    for name, build, n_calib in (("mlp", mlp, 16), ("conv", conv, 8)):
        m, sample, ref = build(rng)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(m.SerializeToString())
        for k in range(n_calib):
            x = sample()
            sd = os.path.join(d, "calib", f"sample_{k:02d}")
            if k % 2:  # both file forms sparq-run reads
                os.makedirs(sd, exist_ok=True)
                np.save(os.path.join(sd, "input_0.npy"), x)
            else:
                write_pb(os.path.join(sd, "input_0.pb"), x)
        for k in range(4):
            x = sample()
            write_pb(os.path.join(d, "eval", f"test_data_set_{k}", "input_0.pb"), x)
            write_pb(os.path.join(d, "eval", f"test_data_set_{k}", "output_0.pb"), ref(x))
    # Hostile calibration folders.
    write_pb(os.path.join(out, "bad_shape", "s0", "input_0.pb"),
             np.zeros((4, 64), np.float32))
    os.makedirs(os.path.join(out, "empty"), exist_ok=True)
    write_pb(os.path.join(out, "extra_input", "s0", "input_0.pb"), np.zeros((8, 64), np.float32))
    write_pb(os.path.join(out, "extra_input", "s0", "input_1.pb"), np.zeros((8, 64), np.float32))


def report(path):
    with open(path) as f:
        r = json.load(f)
    for layer in r["layers"]:
        err, rtn = layer["relative_output_error"], layer["relative_output_error_rtn"]
        verdict = "OK" if err <= rtn else "WORSE"
        print(f"{layer['name']}: {layer['method']} {err:.4f} rtn {rtn:.4f} {verdict}")


def budget(path, bits):
    """--target-bits: the total is within the budget, each layer's scheme is one of its
    candidates, and no candidate of the layer has both fewer bits and a lower error."""
    with open(path) as f:
        r = json.load(f)
    total = r["total"]["bits_per_weight"]
    print(f"total {total:.3f} bits per weight: " + ("within" if total <= bits + 1e-9 else "OVER")
          + f" {bits}")
    for layer in r["layers"]:
        cands = {c["scheme"]: c for c in layer["candidates"]}
        chosen = cands.get(layer["scheme"])
        if chosen is None:
            print(f"{layer['name']}: {layer['scheme']} NOT A CANDIDATE")
            continue
        dominated = [c["scheme"] for c in cands.values()
                     if c["bits_per_weight"] < chosen["bits_per_weight"] - 1e-9
                     and c["error"] < chosen["error"]]
        print(f"{layer['name']}: {layer['scheme']} "
              + ("DOMINATED by " + ",".join(dominated) if dominated else "undominated"))


def load(path):
    with open(path, "rb") as f:
        t = TensorProto()
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t).astype(np.float64)


def heldout(case, a, b):
    errs = []
    for out in (a, b):
        num = den = 0.0
        k = 0
        while os.path.isdir(os.path.join(case, "eval", f"test_data_set_{k}")):
            ref = load(os.path.join(case, "eval", f"test_data_set_{k}", "output_0.pb"))
            got = load(os.path.join(out, str(k), "output_0.pb"))
            num += float(((got - ref) ** 2).sum())
            den += float((ref ** 2).sum())
            k += 1
        errs.append((num / den) ** 0.5)
    print(f"held-out relative error {errs[0]:.4f} vs {errs[1]:.4f}: "
          + ("A < B" if errs[0] < errs[1] else "A >= B"))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "report":
        report(sys.argv[2])
    elif sys.argv[1] == "budget":
        budget(sys.argv[2], float(sys.argv[3]))
    else:
        heldout(sys.argv[2], sys.argv[3], sys.argv[4])
