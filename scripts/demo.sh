#!/usr/bin/env bash
# scripts/demo.sh - the main job on the bundled example: set up, build, compile
# test/models/tinycnn/model.onnx to a shared object, run it on its reference input, print the
# outputs, compare them with the reference output and print the latency.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh sparq-compile sparq-run
model=test/models/tinycnn
mkdir -p build/demo
echo "== sparq-compile $model/model.onnx -o build/demo/tinycnn.so"
build/bin/sparq-compile "$model/model.onnx" -o build/demo/tinycnn.so
echo "== sparq-run build/demo/tinycnn.so --inputs $model/test_data_set_0 --expect $model/test_data_set_0 --bench 50"
build/bin/sparq-run build/demo/tinycnn.so --inputs "$model/test_data_set_0" \
  --expect "$model/test_data_set_0" --bench 50
