#!/usr/bin/env bash
# sparq CPU benchmark suite (see docs/bench.md).
#
#   ./bench/run.sh [--threads "1 2"] [--rounds R] [--models "gemv gemm128 ..."] [--runs N]
#                  [--timeout S] [--cold] [--unfused]
#
# 1. generates the benchmark models into build/bench/models/ (bench/models/make_models.py, once:
#    again only when the generator changes) and uses test/models/tinycnn as it is;
# 2. builds the roofline probes (bench/roofline/*.c, clang-22 -O3 -march=native);
# 3. compiles every model with build/bin/sparq-compile (timed);
# 4. for every thread count T: measures the DRAM read bandwidth (2 GiB buffer), the read
#    bandwidth of a 64 MiB buffer (about gemv's weights; cache-resident where the last-level
#    cache is that big) and the peak FMA throughput, before and after the models (the best
#    counts); for every model runs sparq (build/bin/sparq-run --bench N --threads T) and, when
#    node + onnxruntime-node are installed (bench/ort), onnxruntime, alternating sparq, ort,
#    sparq, ort, ... for R rounds; each run prints the median of its N timed runs, the table
#    shows the median of those per-round medians;
# 5. prints one table per thread count (model | sparq ms | onnxruntime ms | ort/sparq | note)
#    and saves it, with the raw measurements, under build/bench/.
#
# Options:
#   --threads LIST  thread counts to measure (default: "1 <number of CPUs>")
#   --rounds R      alternating rounds per model and thread count (default 3)
#   --models LIST   models to run (default: all; see `bench/models/make_models.py --list`, plus
#                   tinycnn)
#   --runs N        timed runs per measurement (default: auto, about 1 s of sparq time per
#                   measurement, between 5 and 200, probed once per model)
#   --timeout S     per-command time limit in seconds (default 300)
#   --cold          also time sparq with its weights flushed from the caches before every run
#                   (sparq-run --cold), alternating with the other engines: the "sparq cold ms"
#                   column, whose bandwidth-bound models are compared with the DRAM roofline
#   --unfused       also compile every model with --block-fusion=off and time it, alternating
#                   with the other engines: the "unfused ms" and "fusion gain" columns, and the
#                   peak buffer memory of both (sparq-run's accounting)
# Environment: SPARQ_BIN (default build/bin), CC (default clang-22), PYTHON (default
# /usr/bin/python3), NODE (default node).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
OUT=$ROOT/build/bench
SPARQ_BIN=${SPARQ_BIN:-$ROOT/build/bin}
CC=${CC:-clang-22}
PYTHON=${PYTHON:-/usr/bin/python3}
NODE=${NODE:-node}

ncpu=$(nproc)
threads="1 $ncpu"
[ "$ncpu" = 1 ] && threads="1"
rounds=3
models=""
runs=auto
timeout_s=300
cold=""
unfused=""

die() { echo "run.sh: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
    --models) models=${2:?--models needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs a value}; shift 2 ;;
    --cold) cold=1; shift ;;
    --unfused) unfused=1; shift ;;
    -h|--help) usage ;;
    *) echo "run.sh: error: unknown argument '$1'" >&2; usage ;;
  esac
done
threads=$(echo "$threads" | tr ',' ' ')
models=$(echo "$models" | tr ',' ' ')
for t in $threads; do [[ $t =~ ^[1-9][0-9]*$ ]] || die "--threads: '$t' is not a thread count"; done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: '$rounds' is not a positive integer"
[[ $runs = auto || $runs =~ ^[1-9][0-9]*$ ]] || die "--runs: '$runs' is not a positive integer"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout: '$timeout_s' is not a number of seconds"

[ -x "$PYTHON" ] || die "$PYTHON not found (Debian: apt-get install python3 python3-onnx)"
"$PYTHON" -c 'import numpy, onnx' 2>/dev/null ||
  die "$PYTHON cannot import numpy and onnx (Debian: apt-get install python3-numpy python3-onnx)"
for tool in sparq-compile sparq-run; do
  [ -x "$SPARQ_BIN/$tool" ] || die "$SPARQ_BIN/$tool not found (build it: ./scripts/build.sh)"
done
command -v "$CC" >/dev/null || die "$CC not found (set CC to another C compiler)"

generated=$("$PYTHON" "$BENCH/models/make_models.py" --list)
all_models="$generated tinycnn"
[ -n "$models" ] || models=$all_models
for m in $models; do
  [[ " $all_models " = *" $m "* ]] || die "unknown model '$m' (known: $all_models)"
done

mkdir -p "$OUT/models" "$OUT/so" "$OUT/roofline" "$OUT/logs"
stamp=$(date +%Y%m%d-%H%M%S)
results=$OUT/results-$stamp.tsv
report=$OUT/report-$stamp.md
: >"$results"
log() { echo "[bench] $*" >&2; }

# first_error FILE RC: the first line of an error message, for a `fails:` cell.
first_error() {
  local line
  local pattern='error|fail|abort|terminate|what\(\)|assert|exception'
  line=$(grep -m1 -iE "$pattern" "$1" 2>/dev/null || true)
  [ -n "$line" ] || line=$(grep -m1 -v '^[[:space:]]*$' "$1" 2>/dev/null || true)
  case "$2" in
    124) line="timed out after ${timeout_s} s${line:+ ($line)}" ;;
    13[0-9]|14[0-9])
      [ -n "$line" ] || line="killed by signal $(kill -l $(($2 - 128)) 2>/dev/null)" ;;
  esac
  [ -n "$line" ] || line="exit code $2"
  line=${line//"$ROOT/"/}
  echo "$line" | tr '\t|' '  ' | cut -c1-160
}

# record FIELDS...: one tab-separated line of raw results.
record() { (IFS=$'\t'; echo "$*") >>"$results"; }

# model_dir M: the folder with model.onnx and test_data_set_0/.
model_dir() {
  if [ "$1" = tinycnn ]; then echo "$ROOT/test/models/tinycnn"; else echo "$OUT/models/$1"; fi
}

# --- 1. models ------------------------------------------------------------------------------------
gen_hash=$(sha256sum "$BENCH/models/make_models.py" | cut -c1-16)
to_make=""
for m in $models; do
  [ "$m" = tinycnn ] && continue
  if [ ! -f "$OUT/models/$m/model.onnx" ] ||
     [ "$(cat "$OUT/models/$m/.generator" 2>/dev/null)" != "$gen_hash" ]; then
    to_make="$to_make $m"
  fi
done
if [ -n "$to_make" ]; then
  log "generating models:$to_make"
  # shellcheck disable=SC2086
  "$PYTHON" "$BENCH/models/make_models.py" "$OUT/models" $to_make >&2
  for m in $to_make; do echo "$gen_hash" >"$OUT/models/$m/.generator"; done
fi

# --- 2. roofline probes ---------------------------------------------------------------------------
for p in bandwidth peak_fma; do
  if [ ! -x "$OUT/roofline/$p" ] || [ "$BENCH/roofline/$p.c" -nt "$OUT/roofline/$p" ]; then
    log "building $p"
    "$CC" -O3 -march=native -pthread "$BENCH/roofline/$p.c" -o "$OUT/roofline/$p"
  fi
done

# --- onnxruntime (optional) -----------------------------------------------------------------------
ort=""
ort_missing=""
if ! command -v "$NODE" >/dev/null; then
  ort_missing="node is not installed"
elif ! ort_version=$(cd "$BENCH/ort" && "$NODE" -e \
    "process.stdout.write(require('onnxruntime-node/package.json').version)" 2>/dev/null); then
  ort_missing="onnxruntime-node is not installed in bench/ort/node_modules"
else
  ort="onnxruntime-node $ort_version"
fi
if [ -n "$ort" ]; then
  log "baseline: $ort"
else
  log "no onnxruntime baseline: $ort_missing"
  log "  to add it: (cd bench/ort && npm install --ignore-scripts)   # needs node >= 16 and npm"
fi

# --- machine --------------------------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -1)
record machine "$cpu, $ncpu CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB" \
  "sparq $commit${dirty:+ (modified)}" "${ort:-no onnxruntime ($ort_missing)}"

# roofline T: measures and records the read bandwidths and the peak FMA with T threads. Called
# before and after the models of each thread count; the report keeps the best of each (they are
# ceilings, and anything else running on the machine only lowers them).
roofline() {
  local t=$1 bw bw_l3 fma
  bw=$("$OUT/roofline/bandwidth" "$t" 2048 5)
  bw_l3=$("$OUT/roofline/bandwidth" "$t" 64 20)
  fma=$("$OUT/roofline/peak_fma" "$t" 50 5)
  log "  $bw"
  log "  $bw_l3"
  log "  $fma"
  record bandwidth "$t" "$(echo "$bw" | awk '{print $2}')" "$bw"
  record cached_bandwidth "$t" "$(echo "$bw_l3" | awk '{print $2}')" "$bw_l3"
  record peak "$t" "$(echo "$fma" | awk '{print $2}')" "$fma"
}

# --- 3. compile -----------------------------------------------------------------------------------
declare -A compiled
for m in $models; do
  dir=$(model_dir "$m")
  so=$OUT/so/$m.so
  logf=$OUT/logs/$m.compile.log
  log "compiling $m"
  rm -f "$so"
  start=$(date +%s.%N)
  rc=0
  # A compressed variant carries the flags that compress it (make_models.py).
  flags=()
  [ -f "$dir/sparq_flags" ] && read -r -a flags <"$dir/sparq_flags"
  timeout "$timeout_s" "$SPARQ_BIN/sparq-compile" "$dir/model.onnx" -o "$so" --quiet \
    ${flags[@]+"${flags[@]}"} >"$logf" 2>&1 || rc=$?
  end=$(date +%s.%N)
  if [ $rc = 0 ] && [ -f "$so" ]; then
    compiled[$m]=1
    record compile "$m" ok "$(awk "BEGIN {print $end - $start}")" "$(stat -c %s "$so")"
  else
    record compile "$m" fail "$(first_error "$logf" $rc)"
    log "  fails: $(first_error "$logf" $rc)"
  fi
  if [ -n "$unfused" ] && [ -n "${compiled[$m]:-}" ]; then
    rm -f "$OUT/so/$m.unfused.so"
    timeout "$timeout_s" "$SPARQ_BIN/sparq-compile" "$dir/model.onnx" -o "$OUT/so/$m.unfused.so" \
      --quiet --block-fusion=off ${flags[@]+"${flags[@]}"} >"$OUT/logs/$m.unfused.compile.log" 2>&1 ||
      log "  --block-fusion=off fails: $(first_error "$OUT/logs/$m.unfused.compile.log" 1)"
  fi
done

# --- 4. measure -----------------------------------------------------------------------------------
# measure ENGINE MODEL THREADS RUNS LOG: prints the median latency in ms, or fails (rc != 0).
measure() {
  local engine=$1 m=$2 t=$3 n=$4 logf=$5 dir rc=0
  dir=$(model_dir "$m")
  if [[ $engine = sparq* ]]; then
    local extra=() so=$OUT/so/$m.so
    [ "$engine" = sparq-cold ] && extra=(--cold)
    [ "$engine" = sparq-unfused ] && so=$OUT/so/$m.unfused.so
    timeout "$timeout_s" "$SPARQ_BIN/sparq-run" "$so" --inputs "$dir/test_data_set_0" \
      --bench "$n" --threads "$t" ${extra[@]+"${extra[@]}"} >"$logf" 2>&1 || rc=$?
  else
    # A compressed variant's onnxruntime model uses MatMulNBits (make_models.py); without one,
    # onnxruntime has no kernel for the format and is not run.
    local onnx=$dir/model.onnx
    if [ -f "$dir/sparq_flags" ]; then
      onnx=$dir/ort_model.onnx
      [ -f "$onnx" ] || { echo "no onnxruntime kernel for this format" >"$logf"; return 3; }
    fi
    timeout "$timeout_s" "$NODE" "$BENCH/ort/ort_bench.js" "$onnx" \
      --inputs "$dir/test_data_set_0" --bench "$n" --threads "$t" >"$logf" 2>&1 || rc=$?
  fi
  [ $rc = 0 ] || return $rc
  sed -n 's/^latency: .* median \([0-9.]*\) ms.*/\1/p' "$logf" | grep . || return 1
}
# peak_bytes LOG: the peak buffer memory sparq-run reported, or nothing.
peak_bytes() { sed -n 's/^peak buffer memory: \([0-9]*\) bytes.*/\1/p' "$1" | head -1; }

declare -A failed probed
engines="sparq"
[ -n "$cold" ] && engines="$engines sparq-cold"
[ -n "$unfused" ] && engines="$engines sparq-unfused"
[ -n "$ort" ] && engines="$engines ort"
first_t=${threads%% *}
for t in $threads; do
  log "threads $t: measuring read bandwidth and peak FMA"
  roofline "$t"
  for m in $models; do
    n=$runs
    if [ "$n" = auto ]; then
      # About 1 s of timed runs, probed once (with the first thread count) on the first engine
      # that runs the model.
      if [ -z "${probed[$m]:-}" ]; then
        probe=""
        for e in $engines; do
          [ "$e" != ort ] && [ -z "${compiled[$m]:-}" ] && continue
          probe=$(measure "$e" "$m" "$first_t" 3 "$OUT/logs/$m.probe.log") && break
          probe=""
        done
        probed[$m]=$("$PYTHON" -c "import math; p='$probe'; \
print(min(200, max(5, math.ceil(1000 / max(float(p), 1e-3)))) if p else 5)")
      fi
      n=${probed[$m]}
    fi
    log "threads $t: $m, $rounds rounds of $n runs"
    for ((r = 1; r <= rounds; r++)); do
      for e in $engines; do
        key=$e/$m/$t
        if [ "$e" != ort ] && [ -z "${compiled[$m]:-}" ]; then continue; fi
        if [ "$e" = sparq-unfused ] && [ ! -f "$OUT/so/$m.unfused.so" ]; then continue; fi
        [ -n "${failed[$key]:-}" ] && continue
        logf=$OUT/logs/$m.$e.t$t.r$r.log
        rc=0
        ms=$(measure "$e" "$m" "$t" "$n" "$logf") || rc=$?
        if [ $rc = 0 ]; then
          record run "$t" "$m" "$e" ok "$ms" "$r" "$n" "$(peak_bytes "$logf")"
        else
          # A run that timed out is not retried (it would cost the limit again); any other
          # failure is, in the next round, and the report shows how many rounds failed.
          [ $rc = 124 ] && failed[$key]=1
          record run "$t" "$m" "$e" fail "$(first_error "$logf" $rc)" "$r" "$n"
          log "  $e fails: $(first_error "$logf" $rc)"
        fi
      done
    done
  done
  log "threads $t: measuring read bandwidth and peak FMA again"
  roofline "$t"
done

# --- 5. report ------------------------------------------------------------------------------------
"$PYTHON" "$BENCH/report.py" "$results" "$OUT/models" | tee "$report"
log "raw results: ${results#"$ROOT"/}, report: ${report#"$ROOT"/}, logs: build/bench/logs/"
