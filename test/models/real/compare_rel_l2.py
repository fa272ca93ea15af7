#!/usr/bin/env python3
"""Compares each output_K.pb of GOT_DIR with EXPECT_DIR's by relative L2 error
(‖got − expected‖ / ‖expected‖) and fails when one exceeds TOL.

For models whose outputs are discontinuous in their inputs (dynamically quantized activations:
a float difference of one ulp flips a rounded value, and the flips cascade through the layers),
where an element-wise tolerance cannot separate a correct compiler from a wrong one.

Usage: compare_rel_l2.py GOT_DIR EXPECT_DIR TOL
"""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def read(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t).astype(np.float64)


def main():
    got, expect, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    files = sorted(glob.glob(os.path.join(expect, "output_*.pb")))
    if not files:
        sys.exit(f"no output_K.pb in {expect}")
    bad = 0
    for f in files:
        e = read(f)
        g = read(os.path.join(got, os.path.basename(f)))
        if g.shape != e.shape:
            print(f"{os.path.basename(f)}: shape {g.shape}, expected {e.shape}")
            bad += 1
            continue
        rel = np.linalg.norm(g - e) / max(np.linalg.norm(e), 1e-30)
        ok = rel <= tol
        bad += not ok
        print(f"{os.path.basename(f)}: relative L2 error {rel:.4f} {'OK' if ok else 'ABOVE'} {tol}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
