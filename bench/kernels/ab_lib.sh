# bench/kernels/ab_lib.sh - what the kernel A/B scripts (conv_ab.sh, mbconv_ab.sh, qgemm_ab.sh)
# share; sourced, not run.
#   ab_init NAME REV_A [REV_B]  cd to the repository; sets ab_a, ab_b (default `.`, the working
#                               tree), a temporary ab_work (removed on exit), CXX (default
#                               clang++-22) and ab_flags (the AVX-512 v16 kernel variant)
#   ab_fetch SIDE FILE...       copies each FILE (a repository path) of side SIDE's revision
#                               (a or b) into $ab_work/SIDE: include/... under its path, others
#                               by their base name
#   ab_compile SIDE SRC FLAG... compiles $ab_work/SIDE/SRC into $ab_work/SIDE.o with the
#                               kernel namespace renamed per side (the two Tile.h versions'
#                               inline functions stay apart at link time) and FLAGs (symbol
#                               renames)
#   ab_link PROG MAIN           links bench/kernels/MAIN with both sides into $ab_work/PROG
#   ab_header                   prints which revisions A and B are
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

ab_init() {
  local name=$1
  ab_a=${2:?usage: $name.sh REV_A [REV_B|.]}
  ab_b=${3:-.}
  ab_work=$(mktemp -d "/tmp/sparq-${name//_/-}.XXXXXX")
  trap 'rm -rf "$ab_work"' EXIT
  CXX=${CXX:-clang++-22}
  ab_flags=(-O3 -std=c++17 -DSPARQ_UK_VLEN=16 -mavx512f -mavx512vl -mavx512dq -mavx512bw -mfma
            -mavx2)
}

ab_fetch() {
  local side=$1 rev f dst
  shift
  rev=$ab_a; [ "$side" = b ] && rev=$ab_b
  for f in "$@"; do
    dst="$ab_work/$side/$(basename "$f")"
    case $f in include/*) dst="$ab_work/$side/$f" ;; esac
    mkdir -p "$(dirname "$dst")"
    if [ "$rev" = . ]; then cp "$f" "$dst"; else git show "$rev:$f" > "$dst"; fi
  done
}

ab_compile() {
  local side=$1 src=$2
  shift 2
  "$CXX" "${ab_flags[@]}" -I"$ab_work/$side/include" -Iinclude -Dkernels=kernels_$side "$@" \
    -c "$ab_work/$side/$src" -o "$ab_work/$side.o"
}

ab_link() {
  "$CXX" "${ab_flags[@]}" -Iinclude "bench/kernels/$2" "$ab_work/a.o" "$ab_work/b.o" \
    -o "$ab_work/$1"
}

ab_header() {
  echo "A = $ab_a, B = ${ab_b/#./working tree}"
}
