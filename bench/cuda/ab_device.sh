#!/usr/bin/env bash
# bench/cuda/ab_device.sh - A/B of kernel builds on a lent GPU (docs/bench.md): runs
# sparq-gpu-gemm-bench once per fatbin given, ROUNDS times alternating, each configuration checked
# against the host reference; prints one row per (N, M, format) with the best time of each build,
# and, with REPORT=1, report.py's table (cuBLAS fp16) for each build. FORMATS (e.g. w4,w2) limits
# the formats. Writes bench.log, all.csv and report.md to $OUT when set.
#
#   bash bench/cuda/ab_device.sh old.fatbin build/cuda/MmaGemm.fatbin
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/sparq-gpu-ab}
mkdir -p "$OUT"
source bench/cuda/device_bench.sh
FORMATS=${FORMATS:+--formats $FORMATS}
: > "$OUT/bench.log"; : > "$OUT/all.csv"; : > "$OUT/report.md"
rc=0
for round in $(seq "${ROUNDS:-1}"); do
  for fb in "$@"; do
    name=$(basename "$fb" .fatbin)
    echo "== $name round $round" >> "$OUT/bench.log"
    timeout 200 "$BENCH" --fatbin "$fb" $FORMATS --csv "/tmp/ab-$name.csv" >> "$OUT/bench.log" 2>&1 || rc=1
    sed "s/^/$name,/" "/tmp/ab-$name.csv" >> "$OUT/all.csv"
    [ "${REPORT:-0}" = 1 ] && [ "$round" = 1 ] && cp "/tmp/ab-$name.csv" "/tmp/ab-$name.first.csv"
  done
done
if [ "${REPORT:-0}" = 1 ]; then
  for fb in "$@"; do
    name=$(basename "$fb" .fatbin)
    echo "== $name" >> "$OUT/report.md"
    PYTHONUNBUFFERED=1 python3 bench/cuda/report.py "/tmp/ab-$name.first.csv" >> "$OUT/report.md" 2>&1
  done
fi
grep -E "CHECK FAILED|SOME CHECKS|all kernel" "$OUT/bench.log" | sort | uniq -c
python3 - "$OUT/all.csv" <<'PY'
import collections, csv, sys
best = collections.defaultdict(dict)
order, builds = [], []
for line in open(sys.argv[1]):
    build, rest = line.rstrip('\n').split(',', 1)
    if rest.startswith('n,k,m'):
        continue
    r = next(csv.reader([rest]))
    key = (r[0], r[2], r[4])
    us = float(r[7])
    best[key][build] = min(us, best[key].get(build, us))
    if key not in order:
        order.append(key)
    if build not in builds:
        builds.append(build)
print('| N | M | format | ' + ' | '.join(builds) + ' |')
print('|---|---:|---|' + '---:|' * len(builds))
for k in order:
    print('| %s | %s | %s | ' % k + ' | '.join('%.1f' % best[k][b] if b in best[k] else '-' for b in builds) + ' |')
PY
exit $rc
