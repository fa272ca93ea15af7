#!/usr/bin/env python3
"""Fails when a file includes a file of a higher layer (docs/architecture.md).

Layers, bottom to top (a path belongs to the first prefix that matches it):
  0 formats and algorithms, no MLIR: include/sparq/{Formats,Kernels,Compression,Runtime},
    runtime
  1 dialects:                         dialects
  2 passes:                           passes
  3 compiler components:             lib/Import, lib/Target, lib/Artifact, lib/Registration,
                                      include/sparq/InitAll.h
  4 compile API:                      lib/Compiler, include/sparq/Compiler
  5 tools and the mlir-opt plugin:    tools, lib/Plugin
A file may include files of its own layer and below; layer 0 may not include MLIR or LLVM
headers. Usage: check-layers.py [SOURCE_ROOT] | --self-test
"""
import os
import re
import sys

LAYERS = [
    (0, ["include/sparq/Formats", "include/sparq/Kernels", "include/sparq/Compression",
         "include/sparq/Runtime", "runtime"]),
    (1, ["dialects"]),
    (2, ["passes"]),
    (3, ["lib/Import", "lib/Target", "lib/Artifact", "lib/Registration",
         "include/sparq/InitAll.h"]),
    (4, ["lib/Compiler", "include/sparq/Compiler"]),
    (5, ["tools", "lib/Plugin"]),
]
NAMES = ["formats/algorithms", "dialects", "passes", "compiler components", "compile API",
         "tools/plugin"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"|^\s*include\s+"([^"]+)"')


def layer_of(path):
    for layer, prefixes in LAYERS:
        for p in prefixes:
            if path == p or path.startswith(p + "/"):
                return layer
    return None


def resolve(include, root):
    """The repository path an include names, or None for external headers."""
    for base in ("", "include/"):
        if os.path.exists(os.path.join(root, base + include)):
            return base + include
    return None


def self_test():
    """The check fails on a tree with an upward include and an MLIR include at layer 0."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        files = {"passes/P.h": "", "dialects/D.h": '#include "passes/P.h"\n',
                 "include/sparq/Formats/F.h": '#include "mlir/IR/Value.h"\n'}
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        problems = check(root)
    expected = ["dialects/D.h:1: layer 1 (dialects) includes 'passes/P.h' of layer 2 (passes)",
                "include/sparq/Formats/F.h:1: layer 0 (formats/algorithms) includes "
                "'mlir/IR/Value.h' (no MLIR/LLVM below the dialects)"]
    ok = sorted(problems) == sorted(expected)
    print("check-layers self-test:", "ok" if ok else f"FAILED, found {problems}")
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    problems = check(root)
    for p in problems:
        print(p)
    print(f"check-layers: {len(problems)} upward includes")
    return 1 if problems else 0


def check(root):
    problems = []
    for top in ("include", "lib", "dialects", "passes", "runtime", "tools"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".h", ".cpp", ".td", ".inc.in")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                own = layer_of(path)
                if own is None:
                    continue
                with open(os.path.join(root, path), errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1) or m.group(2)
                        if own == 0 and inc.startswith(("mlir/", "llvm/")):
                            problems.append(f"{path}:{lineno}: layer 0 ({NAMES[0]}) includes "
                                            f"'{inc}' (no MLIR/LLVM below the dialects)")
                            continue
                        target = resolve(inc, root)
                        other = layer_of(target) if target else None
                        if other is not None and other > own:
                            problems.append(f"{path}:{lineno}: layer {own} ({NAMES[own]}) "
                                            f"includes '{inc}' of layer {other} "
                                            f"({NAMES[other]})")
    return problems


if __name__ == "__main__":
    sys.exit(main())
