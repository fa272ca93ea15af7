#!/usr/bin/env python3
"""Per-layer output errors of two compressions of the same model (issue 12's shift-add claim).

  bench/calibration/compare_layers.py A.json B.json

A and B are sparq-compile --report files made with --calibration. Prints, per layer, each
report's scheme, method, bits per weight and relative output error on the calibration data, the
lower one, and how many layers each wins.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return {l["name"]: l for l in json.load(f)["layers"]}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = load(sys.argv[1]), load(sys.argv[2])
    wins = {"A": 0, "B": 0, "tie": 0}
    print("| layer | A scheme | A method | A bits/w | A out.err | B scheme | B method | B bits/w "
          "| B out.err | lower |")
    print("|---|---|---|---:|---:|---|---|---:|---:|---|")
    for name, la in a.items():
        lb = b.get(name)
        if lb is None or "relative_output_error" not in la or "relative_output_error" not in lb:
            continue
        ea, eb = la["relative_output_error"], lb["relative_output_error"]
        lower = "A" if ea < eb else "B" if eb < ea else "tie"
        wins[lower] += 1
        print(f"| {name} | {la['scheme']} | {la['method']} | {la['bits_per_weight']:.2f} | {ea:.4f} "
              f"| {lb['scheme']} | {lb['method']} | {lb['bits_per_weight']:.2f} | {eb:.4f} | {lower} |")
    total = sum(wins.values())
    print(f"\nA lower on {wins['A']}/{total} layers, B lower on {wins['B']}/{total}, "
          f"ties {wins['tie']}")


if __name__ == "__main__":
    main()
