#!/usr/bin/env python3
"""Measures, for every weight-bearing layer of an ONNX model, the relative weight error of:
  - 2:4 + W4 g128 with prune-then-quantize vs quantize-then-prune,
  - W4 g128 without vs with outlier channel rearrangement,
  - shift-add (BCQ) vs round-to-nearest at 2 and 3 bits (group 128, symmetric and asymmetric RTN),
using sparq-compile --report (so the figures are exactly what the compiler does).

Usage: scripts/compression_study.py [--sparq-compile PATH] MODEL.onnx [--only REGEX]
                                   [--input-shape NAME=DIMS]...
"""
import argparse
import json
import os
import subprocess
import tempfile

SETTINGS = {
    "nm24_w4": ["--sparsity", "2:4", "--wbits", "4", "--group", "128"],
    "w4": ["--wbits", "4", "--group", "128"],
    "w4_rearranged": ["--wbits", "4", "--group", "128", "--rearrange-channels"],
    "rtn2": ["--wbits", "2", "--group", "128"],
    "rtn2_asym": ["--wbits", "2", "--group", "128", "--asymmetric"],
    "sa2": ["--shiftadd", "2", "--group", "128"],
    "rtn3": ["--wbits", "3", "--group", "128"],
    "rtn3_asym": ["--wbits", "3", "--group", "128", "--asymmetric"],
    "sa3": ["--shiftadd", "3", "--group", "128"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sparq-compile", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build", "bin", "sparq-compile"))
    ap.add_argument("--only", default="")
    ap.add_argument("--input-shape", action="append", default=[])
    ap.add_argument("model")
    args = ap.parse_args()
    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, flags in SETTINGS.items():
            rep = os.path.join(tmp, key + ".json")
            cmd = [args.sparq_compile, args.model, "-o", os.path.join(tmp, key + ".so"),
                   "--quiet", "--report", rep] + flags
            for shape in args.input_shape:
                cmd += ["--input-shape", shape]
            if args.only:
                cmd += ["--only", args.only]
            subprocess.run(cmd, check=True)
            with open(rep) as f:
                reports[key] = {l["name"]: l for l in json.load(f)["layers"]}
    names = list(reports["w4"].keys())
    hdr = ("layer", "shape", "S->Q", "Q->S", "W4", "W4+perm", "perm kept",
           "RTN2", "RTN2a", "SA2", "RTN3", "RTN3a", "SA3")
    print(" | ".join(hdr))
    print(" | ".join("---" for _ in hdr))
    for n in names:
        r = {k: reports[k][n] for k in reports}
        shape = "x".join(str(d) for d in r["w4"]["shape"])
        e = lambda k: "%.4f" % r[k]["relative_weight_error"]
        print(" | ".join([
            n, shape,
            "%.4f" % r["nm24_w4"]["error_prune_then_quantize"],
            "%.4f" % r["nm24_w4"]["error_quantize_then_prune"],
            e("w4"), e("w4_rearranged"), str(r["w4_rearranged"]["permutation_kept"]),
            e("rtn2"), e("rtn2_asym"), e("sa2"), e("rtn3"), e("rtn3_asym"), e("sa3")]))


if __name__ == "__main__":
    main()
