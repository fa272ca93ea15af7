#!/usr/bin/env bash
# scripts/test.sh - set up a fresh machine, build everything and run every test:
# lit (importer, conversions, driver), GoogleTest (runtime), end-to-end, and ONNX conformance,
# whose per-suite `N passed, N failed` lines are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
status=0
ctest --test-dir build --output-on-failure -LE conformance -j2 || status=1
echo "== ONNX backend conformance (log: build/conformance.log)"
ctest --test-dir build -L conformance --verbose > build/conformance.log 2>&1 || status=1
grep -E '(passed, [0-9]+ failed|UNEXPECTED|NEW  |conformance: |forced-dynamic )' build/conformance.log \
  | sed 's/^[0-9]*: //' || true
exit $status
