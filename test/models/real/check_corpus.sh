#!/bin/bash
# Driver of test/Driver/real_models.test: compile, run, compare; stops at the first failure.
set -euo pipefail
check() { # model case artifact
  sparq-run "$3" --inputs "$I/$1/$2" --expect "$R/$1/$2" --atol 1e-3 --rtol 1e-3 > "$T/$1.$2.log" \
    || { cat "$T/$1.$2.log"; echo "FAIL: $1 $2"; exit 1; }
  echo "ok: $1 $2"
}
# By relative L2 error (compare_rel_l2.py), for dynamically quantized models: one ulp of float
# difference flips a rounded activation and the flips cascade, so onnxruntime's own output moves
# by ~4 % when its input is perturbed by 1e-7 relative noise (docs/real-models.md).
check_l2() { # model case artifact tolerance
  sparq-run "$3" --inputs "$I/$1/$2" --output-dir "$T/$1.$2.out" > "$T/$1.$2.log" \
    && "$PY" "$(dirname "$0")/compare_rel_l2.py" "$T/$1.$2.out" "$R/$1/$2" "$4" >> "$T/$1.$2.log" \
    || { cat "$T/$1.$2.log"; echo "FAIL: $1 $2"; exit 1; }
  echo "ok: $1 $2"
}
pinned() { # model case flags...
  local m=$1 c=$2; shift 2
  sparq-compile "$M/$m/model.onnx" -o "$T/$m.pin.so" --quiet "$@"
  check "$m" "$c" "$T/$m.pin.so"
}
dynamic() { # model cases...
  local m=$1; shift
  sparq-compile "$M/$m/model.onnx" -o "$T/$m.dyn.so" --quiet
  for c in "$@"; do check "$m" "$c" "$T/$m.dyn.so"; done
}
pinned ppocr_mobile_v2_cls pin --input-shape x=1x3x48x192
dynamic ppocr_mobile_v2_cls pin dyn0
pinned ppocrv4_det pin --input-shape x=1x3x64x64
dynamic ppocrv4_det pin dyn0
pinned ppocrv4_rec pin --input-shape x=1x3x48x32
dynamic ppocrv4_rec pin dyn0
pinned oww_melspectrogram pin --input-shape input=1x1280
dynamic oww_melspectrogram pin dyn0
pinned oww_embedding pin --input-shape input_1=1x76x32x1
dynamic oww_embedding pin dyn0
# The If on the MLP's score runs at run time: both branches on the two inputs.
pinned oww_hey_jarvis pin
check oww_hey_jarvis pin_hi "$T/oww_hey_jarvis.pin.so"
# The legacy VAD's If on the sample rate runs at run time (16 kHz and 8 kHz).
pinned silero_vad_legacy pin --input-shape input=1x512 --input-shape h=2x1x64 --input-shape c=2x1x64
check silero_vad_legacy pin8k "$T/silero_vad_legacy.pin.so"
dynamic silero_vad_legacy pin pin8k dyn0 dyn1
# v5's 8 kHz branch does not fit a 512-sample input: the sample rate is fixed at compile time.
pinned silero_vad_v5 pin --input-shape input=1x512 --input-shape state=2x1x128 --input-value sr=16000
# Its decoder squeezes a length that is 1 only for 512-sample windows (an If on it yields rank 2
# or 3): the window stays pinned and the batch is symbolic, one symbol N for both inputs.
sparq-compile "$M/silero_vad_v5/model.onnx" -o "$T/silero_vad_v5.dyn.so" --quiet \
  --input-value sr=16000 --input-shape input=Nx512 --input-shape state=2xNx128
check silero_vad_v5 pin "$T/silero_vad_v5.dyn.so"
check silero_vad_v5 dyn0 "$T/silero_vad_v5.dyn.so"
# Moonshine tiny's speech encoder (6 self-attention layers, DynamicQuantizeLinear + MatMulInteger).
sparq-compile "$M/moonshine_tiny_enc/model.onnx" -o "$T/moonshine.pin.so" --quiet \
  --input-shape input_values=1x16000
check_l2 moonshine_tiny_enc pin "$T/moonshine.pin.so" 0.08
sparq-compile "$M/moonshine_tiny_enc/model.onnx" -o "$T/moonshine.dyn.so" --quiet
check_l2 moonshine_tiny_enc pin "$T/moonshine.dyn.so" 0.08
check_l2 moonshine_tiny_enc dyn0 "$T/moonshine.dyn.so" 0.08
echo "all real models match"
