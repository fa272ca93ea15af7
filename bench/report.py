#!/usr/bin/python3
"""Turns the raw results of bench/run.sh into its tables (see docs/bench.md).

Usage: report.py RESULTS.tsv MODELS_DIR

RESULTS.tsv holds tab-separated records written by run.sh:
  machine  CPU  SPARQ_VERSION  ORT_VERSION_OR_WHY_NOT
  bandwidth  THREADS  GB/s  LINE          (bench/roofline/bandwidth, 2 GiB buffer)
      (roofline records come twice per thread count; the best of each is used)
  cached_bandwidth  THREADS  GB/s  LINE   (the same on a 64 MiB buffer)
  peak  THREADS  GFLOP/s  LINE            (bench/roofline/peak_fma)
  compile  MODEL  ok  SECONDS  SO_BYTES   |  compile  MODEL  fail  MESSAGE
  run  THREADS  MODEL  ENGINE  ok  MEDIAN_MS  ROUND  RUNS  [PEAK_BYTES]  |  ... fail  MESSAGE
      ROUND  RUNS      (ENGINE: sparq, sparq-cold, sparq-unfused (--block-fusion=off) or ort)
MODELS_DIR/MODEL/bench.json (from make_models.py) gives weight bytes, FLOPs and the note kind.

Per thread count and model, a latency is the median of the per-round medians; ort/sparq is the
onnxruntime latency divided by sparq's (above 1: sparq is faster). Notes: for gemv the fraction
of the DRAM roofline, (weight bytes / measured DRAM read bandwidth) / latency, then the same with
the 64 MiB (cache-resident on big-L3 machines) bandwidth; for gemm128 the fraction of peak FMA,
(2*M*N*K / measured peak FLOP/s) / latency. A compressed variant (bench.json "baseline": the
float32 model it compresses) also gets "x fp32": sparq's float32 latency of the baseline in the
same run divided by its own; its roofline uses the compressed weight bytes. With sparq-unfused
runs (run.sh --unfused) the table gains "unfused ms", "fusion gain" (unfused / fused latency) and
"peak MiB" (sparq-run's peak buffer memory, fused / unfused).
"""
import json
import os
import statistics
import sys

INSTALL_HINT = "(cd bench/ort && npm install --ignore-scripts)"


def fmt_ms(v):
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(r) for r in rows])


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    results_path, models_dir = argv[1], argv[2]
    machine = None
    bandwidth, cached, peak, compiles, models, threads = {}, {}, {}, {}, [], []
    samples = {}  # (kind, threads) -> every roofline value, to spot a busy machine
    runs = {}  # (threads, model, engine) -> {"ms": [per-round medians], "fails": [messages]}
    peaks = {}  # (model, engine) -> peak buffer bytes
    with open(results_path) as f:
        for raw in f:
            rec = raw.rstrip("\n").split("\t")
            kind = rec[0]
            if kind == "machine":
                machine = rec[1:]
            if kind in ("bandwidth", "cached_bandwidth", "peak"):
                samples.setdefault((kind, int(rec[1])), []).append(float(rec[2]))
            if kind == "machine":
                machine = rec[1:]
            elif kind == "bandwidth":
                t = int(rec[1])
                bandwidth[t] = max(bandwidth.get(t, 0.0), float(rec[2]))
                if t not in threads:
                    threads.append(t)
            elif kind == "cached_bandwidth":
                cached[int(rec[1])] = max(cached.get(int(rec[1]), 0.0), float(rec[2]))
            elif kind == "peak":
                peak[int(rec[1])] = max(peak.get(int(rec[1]), 0.0), float(rec[2]))
            elif kind == "compile":
                compiles[rec[1]] = rec[2:]
                models.append(rec[1])
            elif kind == "run":
                t, model, engine, status, value = int(rec[1]), rec[2], rec[3], rec[4], rec[5]
                entry = runs.setdefault((t, model, engine), {"ms": [], "fails": []})
                if status == "ok":
                    entry["ms"].append(float(value))
                    if len(rec) > 8 and rec[8]:
                        peaks[(model, engine)] = max(peaks.get((model, engine), 0), int(rec[8]))
                else:
                    entry["fails"].append(value)

    ort_label = machine[2] if machine else "no onnxruntime"
    have_ort = not ort_label.startswith("no onnxruntime")
    meta = {}
    for m in models:
        path = os.path.join(models_dir, m, "bench.json")
        if os.path.exists(path):
            with open(path) as f:
                meta[m] = json.load(f)

    out = ["# sparq CPU benchmark", ""]
    if machine:
        out += [f"machine: {machine[0]}; {machine[1]}; baseline: {ort_label}", ""]

    rows = []
    for m in models:
        c = compiles[m]
        if c[0] == "ok":
            mb = int(c[2]) / 1e6
            rows.append([m, f"{float(c[1]):.2f}", f"{mb:.2f}" if mb < 1 else f"{mb:.1f}"])
        else:
            rows.append([m, f"fails: {c[1]}", ""])
    out += ["## compile (sparq-compile model.onnx -o model.so)", "",
            table(["model", "compile s", ".so MB"], rows), ""]

    def latency(t, m, engine):
        """(median ms or None, cell text)."""
        if engine.startswith("sparq") and compiles[m][0] != "ok":
            return None, f"fails: {compiles[m][1]}"
        entry = runs.get((t, m, engine))
        if entry is None:
            return None, "not run"
        if not entry["ms"]:
            return None, f"fails: {entry['fails'][0]}"
        v = statistics.median(entry["ms"])
        cell = fmt_ms(v)
        if entry["fails"]:  # a round that failed while others ran: show it, keep the others
            cell += (f" ({len(entry['fails'])} of {len(entry['fails']) + len(entry['ms'])} "
                     f"rounds failed: {entry['fails'][0]})")
        return v, cell

    have_cold = any(e == "sparq-cold" for (_, _, e) in runs)
    have_unfused = any(e == "sparq-unfused" for (_, _, e) in runs)

    def peak_mib(m, engine):
        v = peaks.get((m, engine))
        return f"{v / 2**20:.2f}" if v is not None else "-"
    for t in threads:
        l3 = f" ({cached[t]:.1f} GB/s on 64 MiB)" if t in cached else ""
        out.append(f"## {t} thread{'s' if t > 1 else ''}: DRAM read bandwidth {bandwidth[t]:.1f} "
                   f"GB/s{l3}, peak FMA {peak[t]:.1f} GFLOP/s")
        out.append("")
        rows = []
        for m in models:
            s, s_cell = latency(t, m, "sparq")
            c, c_cell = latency(t, m, "sparq-cold") if have_cold else (None, "")
            u, u_cell = latency(t, m, "sparq-unfused") if have_unfused else (None, "")
            o, o_cell = latency(t, m, "ort") if have_ort else (None, "")
            note = []
            info = meta.get(m, {})
            bounds = []  # (what, ms): the latency each ceiling allows
            if info.get("note") == "bandwidth":
                mb = info["weight_bytes"] / 1e6
                ms = mb / bandwidth[t]
                bounds.append((f"of DRAM roofline ({mb:.1f} MB / {bandwidth[t]:.1f} GB/s = "
                               f"{fmt_ms(ms)} ms)", ms))
                if t in cached:
                    ms = mb / cached[t]
                    bounds.append((f"of the 64 MiB bandwidth ({fmt_ms(ms)} ms)", ms))
            elif info.get("note") == "fma":
                gflop = info["flops"] / 1e9
                ms = gflop / peak[t] * 1e3
                bounds.append((f"of peak FMA ({gflop:.2f} GFLOP / {peak[t]:.0f} GFLOP/s = "
                               f"{fmt_ms(ms)} ms)", ms))
            base = info.get("baseline")
            if base and s is not None:
                b, _ = latency(t, base, "sparq") if base in compiles else (None, "")
                if b is not None:
                    note.append(f"{b / s:.2f}x sparq fp32 ({base})")
            if bounds:
                if s is not None:
                    note.append(", ".join(f"{100 * ms / s:.0f}% {what}" for what, ms in bounds))
                else:
                    note.append(", ".join(what[len("of "):] for what, _ in bounds))
                if o is not None:
                    note.append("ort " + ", ".join(f"{100 * ms / o:.0f}%" for _, ms in bounds))
                if c is not None and info.get("note") == "bandwidth":
                    note.append(f"cold: {100 * bounds[0][1] / c:.0f}% of DRAM roofline")
            if base and c is not None:
                b, _ = latency(t, base, "sparq-cold") if base in compiles else (None, "")
                if b is not None:
                    note.append(f"cold: {b / c:.2f}x sparq fp32 cold")
            row = [m, s_cell] + ([c_cell] if have_cold else [])
            if have_unfused:
                gain = f"{u / s:.2f}" if s is not None and u is not None else "-"
                row += [u_cell, gain, f"{peak_mib(m, 'sparq')} / {peak_mib(m, 'sparq-unfused')}"]
            if have_ort:
                ratio = f"{o / s:.2f}" if s is not None and o is not None else "-"
                row += [o_cell, ratio]
            rows.append(row + ["; ".join(note)])
        header = ["model", "sparq ms"] + (["sparq cold ms"] if have_cold else [])
        if have_unfused:
            header += ["unfused ms", "fusion gain", "peak MiB fused / unfused"]
        if have_ort:
            header += ["onnxruntime ms", "ort/sparq"]
        out += [table(header + ["note"], rows), ""]
        plural = "s" if t > 1 else ""
        spread = max((max(v) / min(v), k) for (k, tt), v in samples.items() if tt == t)
        if spread[0] > 1.25:
            out += [f"warning: the {spread[1].replace('_', ' ')} measured with {t} thread{plural} "
                    f"varied {spread[0]:.1f}x between before and after the models: something "
                    "else was using the machine, so these timings are noisy.", ""]
        base = threads[0]
        if t > base and peak[t] < 0.75 * peak[base] * t / base:
            out += [f"warning: peak FMA with {t} threads is only {peak[t] / peak[base]:.1f}x the "
                    f"{base}-thread figure: the threads share cores (SMT) or something else was "
                    f"running, so the {t}-thread timings say little about scaling.", ""]

    rounds = max((len(e["ms"]) + len(e["fails"]) for e in runs.values()), default=0)
    out.append(f"Latency: median over {rounds} alternating round{'s' if rounds != 1 else ''} "
               "of each run's median; ort/sparq above 1 means sparq is faster.")
    if have_unfused:
        out.append("unfused: the same model compiled with --block-fusion=off, alternating with "
                   "the others; fusion gain = unfused / fused latency; peak MiB: sparq-run's peak "
                   "buffer memory (intermediates and outputs).")
    if have_cold:
        out.append("sparq cold: sparq-run --cold, the artifact (its weights) flushed from every "
                   "cache level (clflush) before each timed run; onnxruntime runs warm.")
    if not have_ort:
        why = ort_label[len("no onnxruntime"):].strip(" ()")
        out.append(f"onnxruntime baseline not shown: {why}. "
                   f"Install it with {INSTALL_HINT} (needs node and npm; see docs/bench.md).")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
