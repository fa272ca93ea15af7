#!/usr/bin/env bash
# Installs the build tree into a fresh prefix, builds test/install/consumer against it with
# find_package(Sparq), and runs it. Usage: run_consumer_test.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
src=$(cd "$(dirname "$0")" && pwd)/consumer
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work.install.log" 2>&1 || {
  cat "$work.install.log"; exit 1; }
cmake -G Ninja -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER=clang++-22 -DCMAKE_C_COMPILER=clang-22 \
  -DSparq_DIR="$work/prefix/lib/cmake/sparq" > "$work.configure.log" 2>&1 || {
  cat "$work.configure.log"; exit 1; }
ninja -C "$work/build" > "$work.build.log" 2>&1 || { cat "$work.build.log"; exit 1; }
"$work/build/consumer"
