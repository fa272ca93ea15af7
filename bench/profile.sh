#!/usr/bin/env bash
# Waterline profiles of benchmark models, fused against unfused (see docs/profile.md).
#
#   ./bench/profile.sh [--threads T] [--runs N] MODEL...
#
# For each MODEL (a name of bench/models/make_models.py --list): generates it into
# build/bench/models/ if missing, compiles it twice with --profile (block fusion on and off),
# runs both with sparq-run --profile --baseline (alternating, N runs each after a warm-up,
# default 20; T threads, default every CPU) on the model's test inputs, checking the outputs
# against the expected ones where the model has them, and writes the table, the JSON and the
# roofline/waterline picture to build/bench/profiles/MODEL-tT.{txt,json,svg}.
# Environment: SPARQ_BIN (default build/bin), PYTHON (default /usr/bin/python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPARQ_BIN=${SPARQ_BIN:-$ROOT/build/bin}
PYTHON=${PYTHON:-/usr/bin/python3}
MODELS=$ROOT/build/bench/models
OUT=$ROOT/build/bench/profiles
threads=$(nproc)
runs=20

die() { echo "profile.sh: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) [ $# -ge 2 ] || usage; threads=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1'" ;;
    *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || usage
[ -x "$SPARQ_BIN/sparq-compile" ] || die "no $SPARQ_BIN/sparq-compile (run ./scripts/build.sh)"
mkdir -p "$MODELS" "$OUT"

for m in "${names[@]}"; do
  if [ ! -f "$MODELS/$m/model.onnx" ]; then
    "$PYTHON" "$ROOT/bench/models/make_models.py" "$MODELS" "$m" >/dev/null
  fi
  data=$MODELS/$m/test_data_set_0
  # A compressed variant (gemv_w4, mlp1_w4_i8, ...) is the float model plus its sparq flags.
  flags=()
  [ -f "$MODELS/$m/sparq_flags" ] && read -r -a flags <"$MODELS/$m/sparq_flags"
  "$SPARQ_BIN/sparq-compile" "$MODELS/$m/model.onnx" "${flags[@]}" --quiet --profile \
    -o "$OUT/$m.fused.so"
  "$SPARQ_BIN/sparq-compile" "$MODELS/$m/model.onnx" "${flags[@]}" --quiet --profile \
    --block-fusion=off -o "$OUT/$m.unfused.so"
  expect=()
  [ -f "$data/output_0.pb" ] && expect=(--expect "$data" --atol 1e-3 --rtol 1e-3)
  "$SPARQ_BIN/sparq-run" "$OUT/$m.fused.so" --inputs "$data" "${expect[@]}" \
    --threads "$threads" --profile --bench "$runs" --baseline "$OUT/$m.unfused.so" \
    --profile-json "$OUT/$m-t$threads.json" --profile-svg "$OUT/$m-t$threads.svg" \
    | grep -v "^output " | tee "$OUT/$m-t$threads.txt"
  echo "profile.sh: $OUT/$m-t$threads.{txt,json,svg}"
done
