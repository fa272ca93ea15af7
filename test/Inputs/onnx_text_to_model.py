#!/usr/bin/env python3
"""Turns an ONNX textual model (onnx.parser syntax) into a binary .onnx file.

Usage: onnx_text_to_model.py [--name-nodes] IN.onnxtxt OUT.onnx

With --name-nodes, node i is named "n<i>" (the textual syntax cannot name nodes).

Lines starting with '#' or '//' (lit RUN/CHECK lines) are dropped before parsing. Initializers
can be given in the text as `<float[2] w = {1.0, 2.0}>` per the parser's syntax.
"""
import sys

import onnx
import onnx.parser


def main():
    args = sys.argv[1:]
    name_nodes = "--name-nodes" in args
    args = [a for a in args if a != "--name-nodes"]
    src, dst = args
    with open(src) as f:
        text = "".join(l for l in f if not l.lstrip().startswith(("#", "//")))
    model = onnx.parser.parse_model(text)
    if name_nodes:
        for i, node in enumerate(model.graph.node):
            node.name = f"n{i}"
    onnx.save(model, dst)


if __name__ == "__main__":
    main()
