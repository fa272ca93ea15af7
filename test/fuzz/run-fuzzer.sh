#!/usr/bin/env bash
# test/fuzz/run-fuzzer.sh FUZZER CORPUS_DIR SECONDS [SEED ...]
# Runs a libFuzzer target for SECONDS on CORPUS_DIR (created; new inputs are added to it), seeded
# once, while CORPUS_DIR is empty, from each SEED (files of 256 KiB and more are skipped):
#   a directory   its *.onnx, *.pb and *.npy files, at any depth;
#   a file        that file, whatever its name;
#   DIR/PATTERN   the files under DIR, at any depth, whose names match the glob PATTERN
#                 (quote it: 'seeds/signature/*.sig').
# The limits turn hangs and memory blow-ups into failures. Exits non-zero on any crash, sanitizer
# report, leak, timeout or out-of-memory; the reproducer is written to CORPUS_DIR/../crash-*.
set -euo pipefail
fuzzer=$(realpath "$1") corpus=$(realpath -m "$2") seconds=$3
shift 3
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ]; then
  for seed in "$@"; do
    if [ -d "$seed" ]; then
      find "$seed" -type f \( -name '*.onnx' -o -name '*.pb' -o -name '*.npy' \) -size -256k
    elif [ -f "$seed" ]; then
      find "$seed" -size -256k
    else
      find "$(dirname "$seed")" -type f -name "$(basename "$seed")" -size -256k
    fi
  done | while read -r f; do cp "$f" "$corpus/$(echo "$f" | md5sum | cut -c1-16)"; done
fi
cd "$(dirname "$corpus")"
# -rss_limit_mb and -malloc_limit_mb: an input must not make a reader allocate gigabytes.
exec "$fuzzer" "$corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
  -malloc_limit_mb=2048 -max_len=262144 -print_final_stats=1 -detect_leaks=1
