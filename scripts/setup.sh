#!/usr/bin/env bash
# scripts/setup.sh - install every Debian package sparq needs (idempotent).
#
# Safe to run repeatedly: packages already present are skipped without touching apt.
set -euo pipefail

PACKAGES=(
  # Compiler toolchain: LLVM/MLIR 22 (see ../shared/TOOLCHAIN.md).
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22 lld-22
  # Build tools.
  cmake ninja-build ccache
  # ONNX importer (the only component that links protobuf/ONNX).
  libonnx-dev libprotobuf-dev protobuf-compiler
  # ONNX backend conformance data.
  libonnx-testdata
  # Unit tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # Sanitizers and libFuzzer for clang-22 (test/fuzz).
  libclang-rt-22-dev
  # The artifacts' content digest (XXH3, header-only: include/sparq/Formats/ArtifactDigest.h).
  libxxhash-dev
  # LAPACK (OpenBLAS) for the calibration statistics' Cholesky factors (dialects/Weight).
  libopenblas-dev
  # Test-model generators and lit (Debian's python3, not a pyenv one).
  python3 python3-onnx python3-numpy
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
