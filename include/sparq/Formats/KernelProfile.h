//===- include/sparq/Formats/KernelProfile.h - the profile table of an artifact -*- C++ -*-===//
//
// An artifact compiled with `sparq-compile --profile` times each of its kernels (a fused block,
// one op, one compressed-weight kernel call): the entry function calls sparq_uk_profile_begin(id)
// before and sparq_uk_profile_end(id) after each (runtime/kernels/Profile.cpp), and the artifact
// exports its kernel table as text (sparq_model_profile_v1, docs/artifact-abi.md):
//
//   sparq-profile 1
//   kernels N
//   ID <tab> FLOPS <tab> BYTES <tab> KIND <tab> NAME      (N lines, ID = 0 .. N-1 in order)
//
// FLOPS and BYTES are per call, -1 where the compiler cannot tell (dynamic shapes); BYTES is the
// least traffic the kernel needs: every tensor it reads once and its results written once. KIND
// and NAME hold no tab or newline. Shared by the compiler (passes/Codegen/ProfileKernels.cpp) and
// the runtime (runtime/src/Profile.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_FORMATS_KERNELPROFILE_H
#define SPARQ_FORMATS_KERNELPROFILE_H

#include <cstdint>

namespace sparq::profile {

inline constexpr char kMagic[] = "sparq-profile 1";
/// Kernels one artifact can time (the counters are a fixed array in the artifact).
inline constexpr int64_t kMaxKernels = 16384;

} // namespace sparq::profile

#endif // SPARQ_FORMATS_KERNELPROFILE_H
