#!/usr/bin/env python3
"""Developer helper: compile and run ONNX backend test folders without sparq-run.

Usage: scripts/onnx_test_py.py [--sparq-compile PATH] [-v] TEST_DIR...

Each TEST_DIR is a backend-test folder (model.onnx + test_data_set_*/input_K.pb, output_K.pb).
The model is compiled with sparq-compile, loaded with ctypes through the artifact ABI
(docs/artifact-abi.md) and every test_data_set is compared with the expected outputs using the
conformance tolerance (|a-e| <= 1e-4 + 1e-3*|e|). Prints PASS/FAIL/COMPILE-FAIL per test.
This is an independent reference path for the runtime: it only shares the ABI document.
"""
import argparse
import ctypes
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

DTYPES = {
    "float32": np.float32, "float64": np.float64, "float16": np.float16, "int8": np.int8,
    "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8,
    "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64, "bool": np.bool_,
}


def parse_signature(text):
    lines = text.strip().split("\n")
    assert lines[0] == "sparq-signature 1", lines[0]
    i = 1
    out = {}
    for kind in ("inputs", "outputs"):
        k, n = lines[i].split()
        assert k == kind
        n = int(n)
        i += 1
        tensors = []
        for _ in range(n):
            f = lines[i].split()
            i += 1
            rank = int(f[2])
            tensors.append((f[0], f[1], [int(d) for d in f[3:3 + rank]]))
        out[kind] = tensors
    return out


def run_model(so_path, inputs):
    lib = ctypes.CDLL(so_path)
    lib.sparq_model_signature_v1.restype = ctypes.c_char_p
    sig = parse_signature(lib.sparq_model_signature_v1().decode())
    keep = []
    descs = []
    for arr in inputs:
        a = np.ascontiguousarray(arr)
        keep.append(a)
        r = a.ndim
        d = (ctypes.c_int64 * (3 + 2 * r))()
        d[0] = d[1] = a.ctypes.data
        d[2] = 0
        for j in range(r):
            d[3 + j] = a.shape[j]
            d[3 + r + j] = a.strides[j] // a.itemsize if a.itemsize else 0
        descs.append(d)
    total = sum(3 + 2 * len(t[2]) for t in sig["outputs"])
    res = (ctypes.c_int64 * total)()
    args = (ctypes.c_void_p * (1 + len(descs)))(
        ctypes.addressof(res), *[ctypes.addressof(d) for d in descs])
    err = ctypes.create_string_buffer(1024)
    lib.sparq_model_invoke_v2.restype = ctypes.c_int32
    lib.sparq_model_invoke_v2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64]
    if lib.sparq_model_invoke_v2(args, err, len(err)) != 0:
        raise RuntimeError("run-time check failed: " + err.value.decode(errors="replace"))
    outs = []
    off = 0
    for name, dtype, dims in sig["outputs"]:
        r = len(dims)
        aligned, offset = res[off + 1], res[off + 2]
        sizes = list(res[off + 3:off + 3 + r])
        strides = list(res[off + 3 + r:off + 3 + 2 * r])
        off += 3 + 2 * r
        dt = np.dtype(DTYPES[dtype])
        n = int(np.prod(sizes)) if sizes else 1
        if n == 0:
            outs.append(np.zeros(sizes, dt))
            continue
        span = offset + sum((s - 1) * st for s, st in zip(sizes, strides)) + 1
        raw = (ctypes.c_char * (span * dt.itemsize)).from_address(aligned)
        base = np.frombuffer(raw, dtype=dt)
        view = np.lib.stride_tricks.as_strided(
            base[offset:], shape=sizes, strides=[s * dt.itemsize for s in strides])
        outs.append(np.array(view))
    return outs


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def compare(actual, expected):
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != expected {expected.shape}"
    if expected.dtype.kind == "f":
        a = actual.astype(np.float64)
        e = expected.astype(np.float64)
        ok = (np.abs(a - e) <= 1e-4 + 1e-3 * np.abs(e)) | (np.isnan(a) & np.isnan(e)) | (a == e)
        if not ok.all():
            return f"max abs err {np.nanmax(np.abs(a - e))}"
        return None
    if not np.array_equal(actual, expected.astype(actual.dtype)):
        return "values differ"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparq-compile", default=os.path.join(
        os.path.dirname(__file__), "..", "build", "bin", "sparq-compile"))
    ap.add_argument("-v", action="store_true")
    ap.add_argument("tests", nargs="+")
    args = ap.parse_args()
    counts = {}
    tmp = tempfile.mkdtemp()
    for test in args.tests:
        name = os.path.basename(os.path.normpath(test))
        so = os.path.join(tmp, name + ".so")
        p = subprocess.run([args.sparq_compile, os.path.join(test, "model.onnx"), "-o", so],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            status = "COMPILE-FAIL"
            detail = p.stderr.strip().split("\n")[0] if p.stderr else f"rc={p.returncode}"
        else:
            status, detail = "PASS", ""
            for ds in sorted(glob.glob(os.path.join(test, "test_data_set_*"))):
                ins = [load_pb(f) for f in sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                                                  key=lambda s: int(s.split("_")[-1][:-3]))]
                exps = [load_pb(f) for f in sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                                                   key=lambda s: int(s.split("_")[-1][:-3]))]
                try:
                    outs = run_model(so, ins)
                except Exception as e:  # noqa: BLE001
                    status, detail = "RUN-FAIL", str(e)
                    break
                for k, (a, e) in enumerate(zip(outs, exps)):
                    err = compare(a, e)
                    if err:
                        status, detail = "FAIL", f"output {k}: {err}"
                        break
                if status != "PASS":
                    break
        counts[status] = counts.get(status, 0) + 1
        print(f"{status:12s} {name} {detail}" if (args.v or status != "PASS") else f"PASS         {name}")
        sys.stdout.flush()
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
