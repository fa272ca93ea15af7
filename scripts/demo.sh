#!/usr/bin/env bash
# scripts/demo.sh - the main job on the bundled example: set up, build, compile
# test/models/tinycnn/model.onnx to a shared object, run it on its reference input, print the
# outputs, their error against the reference output and the latency; then compress it (2:4
# sparsity + 4-bit weights), print the compression report and the compressed model's output
# error against the dense model.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh sparq-compile sparq-run
model=test/models/tinycnn
out=build/demo
mkdir -p "$out"
echo "== sparq-compile $model/model.onnx -o $out/tinycnn.so"
build/bin/sparq-compile "$model/model.onnx" -o "$out/tinycnn.so"
echo "== sparq-run $out/tinycnn.so --inputs $model/test_data_set_0 --expect $model/test_data_set_0 --bench 50"
build/bin/sparq-run "$out/tinycnn.so" --inputs "$model/test_data_set_0" \
  --expect "$model/test_data_set_0" --bench 50 --output-dir "$out/dense"
echo
echo "== sparq-compile $model/model.onnx -o $out/tinycnn-2of4-w4.so --scheme 2:4,w4g16 --report $out/report.json"
build/bin/sparq-compile "$model/model.onnx" -o "$out/tinycnn-2of4-w4.so" \
  --scheme 2:4,w4g16 --report "$out/report.json"
echo "== compressed output against the dense output (informational: --atol 1 never fails)"
build/bin/sparq-run "$out/tinycnn-2of4-w4.so" --inputs "$model/test_data_set_0" \
  --expect "$out/dense" --atol 1 --bench 50
