#!/usr/bin/env bash
# test/cuda/device_run.sh - the --target=cuda check on a lent GPU machine, as one script (docs/cuda.md):
# unpacks what test/cuda/prepare_device.sh built, runs every compiled ONNX node test on the GPU
# against its expected outputs (run_conformance.py --prebuilt), the bundled CNN on the GPU and
# on the CPU, checked and timed (sparq-run --bench, medians), the compressed MLP in every
# tensor-core format against its dequantized twin's CPU outputs, and the W4 benchmark models on
# the GPU and the CPU, checked against the CPU and timed. Rebuilds sparq-run with the
# machine's g++ where the carried one does not start (another image's libraries).
set -uo pipefail
cd "$(dirname "$0")/../.."
PACK=${1:-build/cuda-target.tar.xz}
WORK=${WORK:-/tmp/sparq-cuda-target}
rm -rf "$WORK" && mkdir -p "$WORK" && tar xJf "$PACK" -C "$WORK" || exit 1
D=$WORK/cuda-target
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
RUN=$D/sparq-run
if ! "$RUN" --help >/dev/null 2>&1; then
  echo "carried sparq-run does not start here; building it with g++"
  g++ -O2 -std=c++17 -I. -Iinclude -Iruntime/src runtime/src/*.cpp tools/sparq-run/*.cpp \
    -ldl -pthread -o "$WORK/sparq-run" && RUN=$WORK/sparq-run
fi
echo "== tinycnn on the GPU (device 0), then on the CPU"
"$RUN" "$D/tinycnn.cuda.so" --inputs "$D/tinycnn.data" --expect "$D/tinycnn.data" --bench 200 --device 0
"$RUN" "$D/tinycnn.cpu.so" --inputs "$D/tinycnn.data" --expect "$D/tinycnn.data" --bench 200
echo "== compressed layers on the tensor cores (small MLP, every format) against the CPU"
for g in "$D"/mlp/g_*.so; do
  n=$(basename "$g" .so); n=${n#g_}
  echo -n "$n: "; "$RUN" "$g" --inputs "$D/mlp/data" --expect "$D/mlp/o_$n" --atol 5e-3 --device 0 | grep max_abs
done
for m in decoder_decode_w4; do
  [ -f "$D/$m.cuda.so" ] || continue
  echo "== $m (W4 g128) on the GPU, against the CPU's outputs, then on the CPU"
  "$RUN" "$D/$m.cuda.so" --inputs "$D/$m.data" --expect "$D/$m.expect" --atol 1e-2 --bench 200 --device 0
  "$RUN" "$D/$m.cpu.so" --inputs "$D/$m.data" --bench 20
done
if [ -d "$D/torch_decoder" ]; then
  echo "== the same decoder step (dequantized weights) in PyTorch fp16 eager"
  python3 bench/cuda/torch_decoder.py "$D/torch_decoder"
fi
echo "== ONNX node tests compiled for the GPU, run on it"
python3 test/conformance/run_conformance.py --sparq-compile none --sparq-run "$RUN" \
  --prebuilt "$D/conf" --jobs 8
