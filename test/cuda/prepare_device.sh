#!/usr/bin/env bash
# test/cuda/prepare_device.sh - builds, on this machine, what test/cuda/device_run.sh runs on a lent
# GPU machine (which has no LLVM, docs/cuda.md): every ONNX node test that compiles with
# --target=cuda:sm_90, with its test data, the bundled CNN for the GPU and the CPU, and sparq-run,
# packed into build/cuda-target.tar.xz (a few MB; carry that path). Needs a built tree
# (scripts/build.sh) and the CUDA toolkit.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHIP=${CHIP:-sm_90}
OUT=build/cuda-target
rm -rf "$OUT" "$OUT.tar.xz"
mkdir -p "$OUT"
python3 test/conformance/run_conformance.py --sparq-compile build/bin/sparq-compile \
  --sparq-run build/bin/sparq-run --jobs 2 --filter '^node/' --target "cuda:$CHIP" \
  --compile-only --keep "$OUT/conf" | grep -E "target cuda|conformance:"
build/bin/sparq-compile test/models/tinycnn/model.onnx --target="cuda:$CHIP" -o "$OUT/tinycnn.cuda.so"
build/bin/sparq-compile test/models/tinycnn/model.onnx --cpu=x86-64-v3 -o "$OUT/tinycnn.cpu.so"
cp -r test/models/tinycnn/test_data_set_0 "$OUT/tinycnn.data"
cp build/bin/sparq-run "$OUT/"
tar cf - -C build cuda-target | xz -T2 -6 > "$OUT.tar.xz"
echo "prepared $OUT.tar.xz ($(du -h "$OUT.tar.xz" | cut -f1)); on the GPU machine:"
echo "  bash test/cuda/device_run.sh build/cuda-target.tar.xz"
