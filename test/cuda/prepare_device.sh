#!/usr/bin/env bash
# test/cuda/prepare_device.sh - builds, on this machine, what test/cuda/device_run.sh runs on a lent
# GPU machine (which has no LLVM, docs/cuda.md): every ONNX node test that compiles with
# --target=cuda:sm_90, with its test data, the bundled CNN for the GPU and the CPU, a small MLP
# compressed in every format the tensor-core kernels take (with the outputs of its dequantized
# twin on the CPU, the reference), the W4 benchmark decoder step for the GPU and the CPU
# and its PyTorch fp16 eager twin (bench/cuda/torch_decoder.py), where build/bench/models has it
# (bench/run.sh makes it), and sparq-run, packed into
# build/cuda-target.tar.xz (carry that path). Needs a built tree (scripts/build.sh) and the CUDA
# toolkit with nvcc (the tensor-core kernels).
set -euo pipefail
cd "$(dirname "$0")/../.."
CHIP=${CHIP:-sm_90}
PY=${PYTHON:-/usr/bin/python3} # with numpy and onnx (the test generators)
OUT=build/cuda-target
rm -rf "$OUT" "$OUT.tar.xz"
mkdir -p "$OUT"
python3 test/conformance/run_conformance.py --sparq-compile build/bin/sparq-compile \
  --sparq-run build/bin/sparq-run --jobs 2 --filter '^node/' --target "cuda:$CHIP" \
  --compile-only --keep "$OUT/conf" | grep -E "target cuda|conformance:"
build/bin/sparq-compile test/models/tinycnn/model.onnx --target="cuda:$CHIP" -o "$OUT/tinycnn.cuda.so"
build/bin/sparq-compile test/models/tinycnn/model.onnx --cpu=x86-64-v3 -o "$OUT/tinycnn.cpu.so"
cp -r test/models/tinycnn/test_data_set_0 "$OUT/tinycnn.data"
# Compressed layers on the tensor cores: the MLP of the compression tests per format, and the
# outputs of the same model with its weights expanded back, run on the CPU.
"$PY" test/Inputs/make_compress_model.py "$OUT/mlp"
for s in w4g128 w8pca w3g256 w2pt 2:4 2:4,w4g64 sa2g128 sa3p2; do
  n=$(echo "$s" | tr -d ':,')
  build/bin/sparq-compile "$OUT/mlp/mlp.onnx" --scheme "$s" --quiet --target="cuda:$CHIP" \
    --export-dequantized "$OUT/mlp/d_$n.onnx" -o "$OUT/mlp/g_$n.so" 2>/dev/null
  build/bin/sparq-compile "$OUT/mlp/d_$n.onnx" --quiet -o "$OUT/mlp/d_$n.so"
  build/bin/sparq-run "$OUT/mlp/d_$n.so" --inputs "$OUT/mlp/data" --output-dir "$OUT/mlp/o_$n" >/dev/null
  rm "$OUT/mlp/d_$n.so" "$OUT/mlp/d_$n.onnx"
done
# Benchmark models (W4 g128): the CPU artifact's outputs are the reference.
for m in decoder_decode_w4; do
  [ -f "build/bench/models/$m/model.onnx" ] || continue
  flags=$(cat "build/bench/models/$m/sparq_flags")
  build/bin/sparq-compile "build/bench/models/$m/model.onnx" $flags --quiet --target="cuda:$CHIP" \
    -o "$OUT/$m.cuda.so"
  build/bin/sparq-compile "build/bench/models/$m/model.onnx" $flags --quiet --cpu=x86-64-v3 \
    -o "$OUT/$m.cpu.so"
  cp -r "build/bench/models/$m/test_data_set_0" "$OUT/$m.data"
  build/bin/sparq-run "$OUT/$m.cpu.so" --inputs "$OUT/$m.data" --output-dir "$OUT/$m.expect" >/dev/null
done
# The decoder step's PyTorch fp16 eager twin (bench/cuda/torch_decoder.py) on the same weights:
# the compressed model's dequantized twin, checked here with numpy against sparq's CPU outputs.
if [ -f "$OUT/decoder_decode_w4.cpu.so" ]; then
  build/bin/sparq-compile build/bench/models/decoder_decode_w4/model.onnx \
    $(cat build/bench/models/decoder_decode_w4/sparq_flags) --quiet --export-dequantized \
    "$OUT/dec_deq.onnx" -o "$OUT/dec_tmp.so"
  "$PY" bench/cuda/torch_decoder.py --export "$OUT/dec_deq.onnx" "$OUT/decoder_decode_w4.data" \
    "$OUT/decoder_decode_w4.expect" "$OUT/torch_decoder"
  rm "$OUT/dec_deq.onnx" "$OUT/dec_tmp.so"
  "$PY" bench/cuda/torch_decoder.py "$OUT/torch_decoder" --numpy --rounds 1 --iters 2
fi
cp build/bin/sparq-run "$OUT/"
tar cf - -C build cuda-target | xz -T2 -6 > "$OUT.tar.xz"
echo "prepared $OUT.tar.xz ($(du -h "$OUT.tar.xz" | cut -f1)); on the GPU machine:"
echo "  bash test/cuda/device_run.sh build/cuda-target.tar.xz"
