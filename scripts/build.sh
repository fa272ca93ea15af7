#!/usr/bin/env bash
# scripts/build.sh - configure (once) and build sparq into ./build. Extra args go to ninja.
# SPARQ_BUILD_DIR (default build) and SPARQ_SANITIZE (e.g. address,undefined: every target
# compiled and linked with these sanitizers) select a second build, as scripts/test.sh's
# build-asan.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SPARQ_BUILD_DIR:-build}
if [ ! -f "$dir/build.ninja" ]; then
  opt=()
  if [ -n "${SPARQ_SANITIZE:-}" ]; then
    # -O1: the usual level for sanitizer builds, and a third less compile time than -O3.
    opt=(-DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG")
  fi
  cmake -G Ninja -S . -B "$dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DSPARQ_SANITIZE="${SPARQ_SANITIZE:-}" "${opt[@]}"
fi
ninja -C "$dir" "$@"
