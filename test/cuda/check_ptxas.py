#!/usr/bin/env python3
"""Checks the ptxas -v log of the CUDA kernels (runtime/kernels/cuda/CMakeLists.txt).

Every entry point that MmaGemm.cu instantiates must be assembled for sm_80 and for sm_90 with no
register spills and no stack frame: a spill turns the in-register dequantization into local-memory
traffic. The expected entry points are read off the .cu's instantiation macros, so a kernel that
fails to assemble (or is dropped) is caught too.

usage: check_ptxas.py PTXAS_LOG MmaGemm.cu
"""
import re
import sys


def expected_kernels(source):
    text = open(source).read()
    shapes = {}
    for macro in ("SPARQ_MMA_SHAPES_WIDE", "SPARQ_MMA_SHAPES"):
        m = re.search(r"#define %s\(NAME, BITS, SPARSE\)((?:.*\\\n)*.*)" % macro, text)
        if not m:
            sys.exit("check_ptxas: no %s macro in %s" % (macro, source))
        body = m.group(1)
        own = re.findall(r"SPARQ_MMA_ENTRY\(NAME, BITS, SPARSE, (\d+), (\d+)\)", body)
        if "SPARQ_MMA_SHAPES_WIDE(NAME" in body:
            own = shapes["SPARQ_MMA_SHAPES_WIDE"] + own
        shapes[macro] = own
    names = set()
    for macro, fmt in re.findall(r"^(SPARQ_MMA_SHAPES(?:_WIDE)?)\((\w+),", text, re.M):
        for r, mt in shapes[macro]:
            names.add("sparq_cuda_mma_%s_r%s_m%s" % (fmt, r, mt))
    # Binary-coded (shift-add) kernels: SPARQ_BCQ_SHAPES(Q) over SPARQ_BCQ_ENTRY(Q, R, MT).
    m = re.search(r"#define SPARQ_BCQ_SHAPES\(Q\)((?:.*\\\n)*.*)", text)
    bcq = re.findall(r"SPARQ_BCQ_ENTRY\(Q, (\d+), (\d+)\)", m.group(1)) if m else []
    for q in re.findall(r"^SPARQ_BCQ_SHAPES\((\d+)\)", text, re.M):
        for r, mt in bcq:
            names.add("sparq_cuda_mma_bcq%s_r%s_m%s" % (q, r, mt))
    return names


def main():
    log, source = sys.argv[1], sys.argv[2]
    expected = expected_kernels(source)
    if not expected:
        sys.exit("check_ptxas: no kernels instantiated in %s" % source)
    seen = {}  # (kernel, arch) -> (stack, spill stores, spill loads, registers)
    current = None
    for line in open(log):
        m = re.search(r"Compiling entry function '(\w+)' for '(sm_\d+)'", line)
        if m:
            current = (m.group(1), m.group(2))
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m and current:
            seen[current] = [int(m.group(1)), int(m.group(2)), int(m.group(3)), None]
            continue
        m = re.search(r"Used (\d+) registers", line)
        if m and current in seen:
            seen[current][3] = int(m.group(1))
            current = None
    errors = []
    for arch in ("sm_80", "sm_90"):
        for k in sorted(expected):
            v = seen.get((k, arch))
            if v is None:
                errors.append("%s: not assembled for %s" % (k, arch))
            elif v[0] or v[1] or v[2]:
                errors.append("%s (%s): %d bytes stack frame, %d bytes spill stores, %d bytes spill loads"
                              % (k, arch, v[0], v[1], v[2]))
    for (k, arch) in seen:
        if k not in expected:
            errors.append("%s (%s): assembled but not expected from %s" % (k, arch, source))
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    regs = [v[3] for v in seen.values() if v[3] is not None]
    print("%d kernels x 2 architectures: no spills, no stack frame; registers %d..%d"
          % (len(expected), min(regs), max(regs)))


if __name__ == "__main__":
    main()
