#!/usr/bin/env python3
"""Writes the corpus test inputs (fixed seeds, numpy's PCG64: the same bytes on every machine)
as OUT/<model>/<case>/input_K.pb, the layout `sparq-run --inputs` reads. The expected outputs
next to them in refs/<model>/<case>/output_K.pb were produced once by onnxruntime-node 1.30.0
(`node bench/ort/ort_bench.js MODEL --inputs DIR --bench 0 --write-outputs DIR`, with the
sample-rate input `sr` = 16000 added for silero_vad_v5, which the test compiles with
--input-value sr=16000). Cases: see CASES; `pin` cases are compiled with those shapes pinned,
`dyn` cases with none (one artifact for all the model's dyn cases).

Usage: make_inputs.py OUT_DIR [--with-sr]   (--with-sr: v5's inputs for onnxruntime)
"""
import os
import sys

import numpy as np
from onnx import numpy_helper

# model -> [(case, [(input name, shape, kind)])]; kind: u (uniform [-1, 1)), s (audio: sine +
# noise), z (zeros), i:V (int64 scalar V), a:S (uniform times S)
CASES = {
    "ppocr_mobile_v2_cls": [("pin", [("x", (1, 3, 48, 192), "u")]),
                            ("dyn0", [("x", (2, 3, 48, 160), "u")])],
    "ppocrv4_det": [("pin", [("x", (1, 3, 64, 64), "u")]),
                    ("dyn0", [("x", (1, 3, 32, 96), "u")])],
    "ppocrv4_rec": [("pin", [("x", (1, 3, 48, 32), "u")]),
                    ("dyn0", [("x", (1, 3, 48, 64), "u")])],
    "silero_vad_legacy": [("pin", [("input", (1, 512), "s"), ("sr", (), "i:16000"),
                                   ("h", (2, 1, 64), "z"), ("c", (2, 1, 64), "z")]),
                          ("pin8k", [("input", (1, 512), "s"), ("sr", (), "i:8000"),
                                     ("h", (2, 1, 64), "a:0.1"), ("c", (2, 1, 64), "a:0.1")]),
                          ("dyn0", [("input", (3, 1024), "s"), ("sr", (), "i:16000"),
                                    ("h", (2, 3, 64), "a:0.1"), ("c", (2, 3, 64), "a:0.1")]),
                          ("dyn1", [("input", (2, 256), "s"), ("sr", (), "i:8000"),
                                    ("h", (2, 2, 64), "z"), ("c", (2, 2, 64), "z")])],
    "silero_vad_v5": [("pin", [("input", (1, 512), "s"), ("state", (2, 1, 128), "a:0.1")]),
                      ("dyn0", [("input", (3, 512), "s"), ("state", (2, 3, 128), "a:0.1")])],
    "oww_melspectrogram": [("pin", [("input", (1, 1280), "a:3000")]),
                           ("dyn0", [("input", (2, 1760), "a:3000")])],
    "oww_embedding": [("pin", [("input_1", (1, 76, 32, 1), "u")]),
                      ("dyn0", [("input_1", (3, 76, 32, 1), "u")])],
    "oww_hey_jarvis": [("pin", [("x.1", (1, 16, 96), "u")]),
                       ("pin_hi", [("x.1", (1, 16, 96), "a:3")])],
    "moonshine_tiny_enc": [("pin", [("input_values", (1, 16000), "s")]),
                           ("dyn0", [("input_values", (2, 8000), "s")])],
}


def make(kind, shape, rng):
    if kind == "u":
        return rng.uniform(-1, 1, shape).astype(np.float32)
    if kind == "z":
        return np.zeros(shape, np.float32)
    if kind == "s":
        t = np.arange(shape[-1]) / 16000.0
        x = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(shape)
        return x.astype(np.float32)
    if kind.startswith("i:"):
        return np.array(int(kind[2:]), np.int64)
    if kind.startswith("a:"):
        return (rng.uniform(-1, 1, shape) * float(kind[2:])).astype(np.float32)
    raise ValueError(kind)


def main():
    out = sys.argv[1]
    with_sr = "--with-sr" in sys.argv[2:]
    for model, cases in CASES.items():
        for k, (case, inputs) in enumerate(cases):
            rng = np.random.default_rng(1000 + 17 * k + len(model))
            d = os.path.join(out, model, case)
            os.makedirs(d, exist_ok=True)
            arrays = [(name, make(kind, shape, rng)) for name, shape, kind in inputs]
            if model == "silero_vad_v5" and with_sr:
                arrays.append(("sr", np.array(16000, np.int64)))
            for i, (name, a) in enumerate(arrays):
                with open(os.path.join(d, f"input_{i}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(a, name).SerializeToString())


if __name__ == "__main__":
    main()
