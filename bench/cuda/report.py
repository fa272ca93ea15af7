#!/usr/bin/env python3
"""Adds cuBLAS fp16 (through PyTorch) to sparq-gpu-gemm-bench's CSV and prints the table of issue 14.

For every (N, K, M) of the CSV, times torch.nn.functional.linear(x, w) in fp16 (cuBLAS) the way the
sparq bench times its kernels: CUDA events around 30 launches that rotate over weight copies
larger than the L2 cache together, best of 3 rounds. Prints one markdown row per (shape, M,
format): sparq's time, its fraction of the memory roofline measured by the bench, and cuBLAS fp16
time / sparq time. Needs PyTorch with CUDA (the device machine has it); not part of any test.

usage: report.py sparq.csv
"""
import csv
import sys

import torch


def time_cublas(n, k, m, copies):
    ws = [torch.randn(n, k, device="cuda", dtype=torch.float16) * 0.02 for _ in range(copies)]
    x = torch.randn(m, k, device="cuda", dtype=torch.float16)
    for w in ws:
        torch.nn.functional.linear(x, w)
    torch.cuda.synchronize()
    best = float("inf")
    iters = 30
    for _ in range(3):
        e0 = torch.cuda.Event(enable_timing=True)
        e1 = torch.cuda.Event(enable_timing=True)
        e0.record()
        for i in range(iters):
            torch.nn.functional.linear(x, ws[i % copies])
        e1.record()
        e1.synchronize()
        best = min(best, e0.elapsed_time(e1) / iters * 1e3)
    del ws
    torch.cuda.empty_cache()
    return best


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    cublas = {}
    for r in rows:
        key = (int(r["n"]), int(r["k"]), int(r["m"]))
        if key not in cublas:
            n, k, m = key
            copies = max(2, -(-4 * 50 * 2**20 // (2 * n * k)))  # rotate over >= 200 MB
            cublas[key] = time_cublas(n, k, m, copies)
    print("GPU: %s, torch %s, memory roofline %s GB/s (device-to-device copy)\n"
          % (torch.cuda.get_device_name(), torch.__version__, rows[0]["bandwidth_gbs"] if rows else "?"))
    print("| N x K | M | format | sparq us | roofline frac | cuBLAS fp16 us | speed-up vs cuBLAS fp16 | "
          "vs sparq fp16 | check | rel. output error vs fp32 |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---|---:|")
    dense = {(int(r["n"]), int(r["m"])): float(r["us"]) for r in rows if r["format"] == "f16"}
    for r in rows:
        n, k, m = int(r["n"]), int(r["k"]), int(r["m"])
        us = float(r["us"])
        cb = cublas[(n, k, m)]
        d = dense.get((n, m))
        print("| %dx%d | %d | %s | %.1f | %.2f | %.1f | %.2fx | %s | %s | %s |"
              % (n, k, m, r["label"], us, float(r["roofline_frac"]), cb, cb / us,
                 ("%.2fx" % (d / us)) if d else "-", r["check"], r["output_rel_err"]))


if __name__ == "__main__":
    main()
