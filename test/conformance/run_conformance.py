#!/usr/bin/env python3
"""ONNX backend conformance: compile and run every test of the ONNX backend test data.

For each test folder (model.onnx + test_data_set_*/) of the suites node, pytorch-converted,
pytorch-operator and simple under --data, runs
    sparq-compile model.onnx -o T.so
    sparq-run T.so --inputs test_data_set_N --expect test_data_set_N --atol 1e-4 --rtol 1e-3
and compares the outcome with the checked-in expectations file, where each test is either
`pass` or `xfail <reason>`. A test that passes unexpectedly or fails unexpectedly fails the run.
Prints per suite and in total a line `N passed, N failed`.

Tolerance (docs/conformance.md): |actual - expected| <= atol + rtol * |expected| elementwise,
atol 1e-4, rtol 1e-3, for floating-point outputs; integer and bool outputs must match exactly.

Other targets (docs/cuda.md): --target cuda[:sm_NN] compiles with sparq-compile --target and
reports the counts against the CPU passes of the expectations file (like --dynamic-inputs), with
--min-node-pass as a floor. --compile-only stops after sparq-compile (a machine without the
target's hardware measures what compiles); --keep DIR keeps each artifact there with a copy of its
test data and a manifest, and --prebuilt DIR runs such a folder where it was carried (a GPU
machine without the compiler).

Options: --update rewrites the expectations file from this run's results (review the diff!),
--filter REGEX runs a subset, --every N every Nth test of it (a sample spread over all ops, as
the sanitizer run of scripts/test.sh uses), --jobs N runs N tests at a time.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
ATOL, RTOL = "1e-4", "1e-3"


def first_error(text):
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip() if lines else "no message"


def classify(reason):
    """Shortens a failure message into a stable expectation reason."""
    m = re.search(r"unsupported ONNX operator: '([^']+)' node", reason)
    if m:
        return f"unsupported op {m.group(1)}"
    m = re.search(r"^'([^']+)' node.*?\): (.*)$", reason)
    if m:
        return f"{m.group(1)}: {m.group(2)}"
    reason = re.sub(r"/tmp/\S+", "<tmp>", reason)
    reason = re.sub(r"\S*/libonnx-testdata/data/", "", reason)
    return reason[:160]


def run_test(args, suite, test_dir, tmpdir):
    name = os.path.basename(test_dir)
    if args.prebuilt:
        return run_prebuilt(args, suite, name)
    so = os.path.join(args.keep or tmpdir, f"{suite}__{name}.so")
    try:
        extra = ["--dynamic-inputs"] if args.dynamic_inputs else []
        if args.target:
            extra.append(f"--target={args.target}")
        extra += args.extra_arg
        p = subprocess.run([args.sparq_compile, os.path.join(test_dir, "model.onnx"), "-o", so]
                           + extra,
                           capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return "fail", f"compile timeout ({args.timeout}s)"
    if p.returncode != 0:
        msg = first_error(p.stderr)
        if p.returncode < 0:
            msg = f"compiler crashed (signal {-p.returncode}): {msg}"
        return "fail", "compile: " + classify(msg)
    datasets = sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")))
    if args.keep:
        data = os.path.join(args.keep, f"{suite}__{name}.data")
        for ds in datasets:
            shutil.copytree(ds, os.path.join(data, os.path.basename(ds)), dirs_exist_ok=True)
    if args.compile_only:
        return "pass", ""
    return run_datasets(args, so, datasets, remove=not args.keep)


def run_prebuilt(args, suite, name):
    """Runs an artifact of a --keep folder on the test data copied beside it."""
    so = os.path.join(args.prebuilt, f"{suite}__{name}.so")
    datasets = sorted(glob.glob(os.path.join(args.prebuilt, f"{suite}__{name}.data",
                                             "test_data_set_*")))
    return run_datasets(args, so, datasets, remove=False)


def run_datasets(args, so, datasets, remove):
    try:
        for ds in datasets:
            try:
                r = subprocess.run([args.sparq_run, so, "--inputs", ds, "--expect", ds,
                                    "--atol", ATOL, "--rtol", RTOL],
                                   capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                return "fail", f"run timeout ({args.timeout}s)"
            if r.returncode != 0:
                if r.returncode < 0:
                    return "fail", f"run crashed (signal {-r.returncode})"
                if "MISMATCH" in r.stdout:
                    return "fail", "wrong result"
                return "fail", "run: " + classify(first_error(r.stderr))
    finally:
        if remove and os.path.exists(so):
            os.remove(so)
    return "pass", ""


def load_expectations(path):
    exp = {}
    if not os.path.exists(path):
        return exp
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition(": ")
            status, _, reason = rest.partition(" ")
            exp[key] = (status, reason)
    return exp


def write_expectations(path, results):
    with open(path, "w") as f:
        f.write("# ONNX backend conformance expectations (test/conformance/run_conformance.py).\n")
        f.write("# Each line: SUITE/TEST: pass | xfail REASON. Regenerate with --update and\n")
        f.write("# review the diff; a test listed as pass that fails (or the reverse) fails CI.\n")
        for key in sorted(results):
            status, reason = results[key]
            f.write(f"{key}: pass\n" if status == "pass" else f"{key}: xfail {reason}\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sparq-compile", required=True)
    ap.add_argument("--sparq-run", required=True)
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data")
    ap.add_argument("--expectations", default=os.path.join(here, "expectations.txt"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--filter", default="")
    ap.add_argument("--every", type=int, default=1,
                    help="run every Nth test (after --filter) in name order: a spread-out sample")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--dynamic-inputs", action="store_true",
                    help="forced-dynamic mode: compile with every input dimension symbolic and "
                         "report the counts against the static ones of the expectations file "
                         "instead of checking expectations")
    ap.add_argument("--min-node-pass", type=int, default=0,
                    help="with --dynamic-inputs or --target: fail when fewer node tests pass")
    ap.add_argument("--target", default="",
                    help="sparq-compile --target (e.g. cuda); counts against the CPU passes")
    ap.add_argument("--extra-arg", action="append", default=[],
                    help="one more sparq-compile argument (repeatable), e.g. "
                         "--extra-arg=--cuda-host-emulation")
    ap.add_argument("--compile-only", action="store_true",
                    help="only compile: a test passes when sparq-compile succeeds")
    ap.add_argument("--keep", default="",
                    help="keep the artifacts, test data and a manifest in this folder")
    ap.add_argument("--prebuilt", default="",
                    help="run the artifacts of a --keep folder (no compiler needed)")
    args = ap.parse_args()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)

    if args.prebuilt:
        return run_manifest(args)
    if not os.path.isdir(args.data):
        print(f"run_conformance: error: {args.data} does not exist "
              "(install the Debian package libonnx-testdata)", file=sys.stderr)
        return 1
    tests = []
    for suite in SUITES:
        for d in sorted(glob.glob(os.path.join(args.data, suite, "*"))):
            if os.path.exists(os.path.join(d, "model.onnx")):
                key = f"{suite}/{os.path.basename(d)}"
                if re.search(args.filter, key):
                    tests.append((suite, d, key))
    tests = tests[::max(args.every, 1)]
    expectations = load_expectations(args.expectations)
    results = {}
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="sparq-conformance-") as tmpdir, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_test, args, s, d, tmpdir): key for s, d, key in tests}
        for fut in concurrent.futures.as_completed(futures):
            results[futures[fut]] = fut.result()

    unexpected = []
    for suite in SUITES + ["total"]:
        keys = [k for k in results if suite == "total" or k.startswith(suite + "/")]
        if not keys:
            continue
        passed = sum(results[k][0] == "pass" for k in keys)
        print(f"{suite}: {passed} passed, {len(keys) - passed} failed")
    for key in sorted(results):
        status, reason = results[key]
        exp = expectations.get(key)
        if exp is None:
            unexpected.append(f"NEW        {key}: {status} {reason} (not in expectations)")
        elif status == "pass" and exp[0] != "pass":
            unexpected.append(f"UNEXPECTED PASS {key} (expected xfail: {exp[1]})")
        elif status != "pass" and exp[0] == "pass":
            unexpected.append(f"UNEXPECTED FAIL {key}: {reason}")
    print(f"conformance: {len(results)} tests in {time.time() - start:.0f}s")
    if args.keep:
        with open(os.path.join(args.keep, "manifest.txt"), "w") as f:
            for key in sorted(results):
                status, reason = results[key]
                f.write(f"{key}\t{status}\t{reason}\n")
    if args.dynamic_inputs or args.target:
        # Forced-dynamic mode (every input dimension symbolic) or another target: compared with
        # the static CPU passes recorded in the expectations file; a floor guards against
        # regressions.
        mode = f"target {args.target}" if args.target else "forced-dynamic"
        if args.extra_arg:
            mode += " " + " ".join(args.extra_arg)
        if args.compile_only:
            mode += " (compile only)"
        for suite in SUITES:
            keys = [k for k in results if k.startswith(suite + "/")]
            if not keys:
                continue
            passed = sum(results[k][0] == "pass" for k in keys)
            static = sum(1 for k in keys if expectations.get(k, ("",))[0] == "pass")
            ratio = f"{100.0 * passed / static:.1f}%" if static else "-"
            print(f"{mode} {suite}: {passed} of {len(keys)} pass ({ratio} of the "
                  f"{static} that pass with static shapes)")
        # What the forced-dynamic mode loses: tests that pass with static shapes, grouped by why.
        lost = {}
        for k, (status, reason) in results.items():
            if status != "pass" and expectations.get(k, ("",))[0] == "pass":
                reason = re.sub(r"\S+/model\.onnx: ", "", reason)
                lost.setdefault(reason, []).append(k)
        if lost:
            print(f"{mode}: losses against the static passes, by reason:")
            for reason, keys in sorted(lost.items(), key=lambda kv: -len(kv[1])):
                print(f"  {len(keys):4d}  {reason}  (e.g. {sorted(keys)[0]})")
        node = sum(results[k][0] == "pass" for k in results if k.startswith("node/"))
        if node < args.min_node_pass:
            print(f"conformance: FAILED ({mode}: {node} node tests pass, "
                  f"fewer than the floor {args.min_node_pass})")
            return 1
        print(f"conformance: {mode} counts at or above the floor")
        return 0
    if args.update:
        if args.filter:
            merged = dict(expectations)
            merged.update({k: (s, r) for k, (s, r) in results.items()})
            results = merged
        write_expectations(args.expectations, results)
        print(f"conformance: wrote {args.expectations}")
        return 0
    for line in unexpected:
        print(line)
    if unexpected:
        print(f"conformance: FAILED ({len(unexpected)} unexpected results)")
        return 1
    print("conformance: all results as expected")
    return 0


def run_manifest(args):
    """--prebuilt: runs every artifact the manifest lists as compiled; prints the counts."""
    entries = []
    with open(os.path.join(args.prebuilt, "manifest.txt")) as f:
        for line in f:
            key, status, reason = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            if re.search(args.filter, key):
                entries.append((key, status, reason))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {}
        for key, status, reason in entries:
            if status != "pass":
                results[key] = (status, reason)
                continue
            suite, name = key.split("/", 1)
            futures[pool.submit(run_prebuilt, args, suite, name)] = key
        for fut in concurrent.futures.as_completed(futures):
            results[futures[fut]] = fut.result()
    passed = sum(r[0] == "pass" for r in results.values())
    ran = sum(1 for _, status, _ in entries if status == "pass")
    print(f"prebuilt: {passed} of {len(results)} pass ({ran} compiled and ran)")
    expectations = load_expectations(args.expectations)
    static = [k for k in results if expectations.get(k, ("",))[0] == "pass"]
    kept = sum(results[k][0] == "pass" for k in static)
    print(f"prebuilt: {kept} of the {len(static)} that pass on the CPU (expectations file) pass")
    reasons = {}
    for key, (status, reason) in sorted(results.items()):
        if status != "pass":
            reasons.setdefault(reason, []).append(key)
    for reason, keys in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(keys):4d}  {reason}  (e.g. {keys[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
