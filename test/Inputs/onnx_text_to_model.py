#!/usr/bin/env python3
"""Turns an ONNX textual model (onnx.parser syntax) into a binary .onnx file.

Usage: onnx_text_to_model.py IN.onnxtxt OUT.onnx

Lines starting with '#' or '//' (lit RUN/CHECK lines) are dropped before parsing. Initializers
can be given in the text as `<float[2] w = {1.0, 2.0}>` per the parser's syntax.
"""
import sys

import onnx
import onnx.parser


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        text = "".join(l for l in f if not l.lstrip().startswith(("#", "//")))
    model = onnx.parser.parse_model(text)
    onnx.save(model, dst)


if __name__ == "__main__":
    main()
