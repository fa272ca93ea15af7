#!/usr/bin/env bash
# test/fuzz/run-fuzzer.sh FUZZER CORPUS_DIR SECONDS [SEED_DIR ...]
# Runs a libFuzzer target for SECONDS on CORPUS_DIR (created; new inputs are added to it) seeded
# from the SEED_DIRs (only *.onnx, *.pb and *.npy files, copied once), with limits that turn hangs
# and memory blow-ups into failures. Exits non-zero on any crash, sanitizer report, leak, timeout
# or out-of-memory; the reproducer is written to CORPUS_DIR/../crash-*.
set -euo pipefail
fuzzer=$(realpath "$1") corpus=$(realpath -m "$2") seconds=$3
shift 3
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ]; then
  for dir in "$@"; do
    find "$dir" -type f \( -name '*.onnx' -o -name '*.pb' -o -name '*.npy' \) -size -256k |
      while read -r f; do cp "$f" "$corpus/$(echo "$f" | md5sum | cut -c1-16)"; done
  done
fi
cd "$(dirname "$corpus")"
# -rss_limit_mb and -malloc_limit_mb: a model must not make the importer allocate gigabytes.
exec "$fuzzer" "$corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
  -malloc_limit_mb=2048 -max_len=262144 -print_final_stats=1 -detect_leaks=1
