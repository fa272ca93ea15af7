//===- runtime/kernels/cuda/MmaGemm.h - CUDA GEMM kernels' parameters -*- C++ -*-===//
//
// The parameter block of the tensor-core GEMM/GEMV kernels (MmaGemm.cu), shared by the kernels
// and the host code that launches them, and the kernels' names. Plain C++17: no CUDA headers.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_KERNELS_CUDA_MMAGEMM_H
#define SPARQ_RUNTIME_KERNELS_CUDA_MMAGEMM_H

#include <cstdint>
#include <string>

namespace sparq::cuda {

/// Passed by value as the kernels' only parameter. Pointers are device addresses.
struct MmaArgs {
  const uint32_t *planes[3]; // packed codes, one array per plane (Formats/MmaPanels.h)
  const uint16_t *scales;    // fp16 [N/16][K/128][16]; unused for fp16 weights
  const uint16_t *zeros;     // fp16 1024 + zero point, same layout; null: 1024 + 2^(bits-1)
  const uint32_t *meta;      // 2:4 metadata (sparse formats only)
  const uint16_t *x;         // fp16 activations [M][K]
  float *y;                  // fp32 [M][N]; zeroed by the caller when mma::outputAccumulates
  int m, n, k;
};

/// Threads per block of every MmaGemm kernel.
constexpr int kMmaThreads = 128;

/// The entry point for weight format `format` (f16, w8, w4, w3, w2, sp24w4, sp24f16, or bcq2 / bcq3
/// for shift-add weights with 2 / 3 planes), R tiles of
/// 16 rows and MT tiles of 8 tokens per warp. Launch any number of blocks of kMmaThreads.
inline std::string mmaKernelName(const std::string &format, int r, int mt) {
  return "sparq_cuda_mma_" + format + "_r" + std::to_string(r) + "_m" + std::to_string(mt);
}

/// A kernel format: its entry-point name, code bits (16: fp16 values; 1 per sign plane for
/// shift-add), whether it is 2:4 sparse, and its shift-add planes (0 otherwise).
struct MmaFormat {
  const char *name;
  int bits;
  bool sparse;
  int bcq;
};
/// The formats, indexed by the SPARQ_MMA_* formats of include/sparq/Kernels/UKernels.h.
constexpr MmaFormat kMmaFormats[] = {
    {"f16", 16, false, 0},   {"w8", 8, false, 0},  {"w4", 4, false, 0},
    {"w3", 3, false, 0},     {"w2", 2, false, 0},  {"sp24w4", 4, true, 0},
    {"sp24f16", 16, true, 0}, {"bcq2", 1, false, 2}, {"bcq3", 1, false, 3}};
constexpr int kMmaNumFormats = sizeof(kMmaFormats) / sizeof(kMmaFormats[0]);

/// Whether MmaGemm.cu instantiates the kernel of format `format` (an index of kMmaFormats)
/// with R = `r` tiles of 16 rows and MT = `mt` tiles of 8 tokens (its SPARQ_*_SHAPES lists).
constexpr bool mmaInstantiated(int format, int r, int mt) {
  const MmaFormat &f = kMmaFormats[format];
  if (f.bcq)
    return (mt == 1 && (r == 1 || r == 2 || r == 4)) || (mt == 2 && (r == 1 || r == 2));
  if (f.bits >= 8) // the wide formats' larger shapes would spill
    return (r == 1 && (mt == 1 || mt == 2 || mt == 8)) || (r == 2 && (mt == 1 || mt == 2));
  return ((r == 1 || r == 2 || r == 4) && (mt == 1 || mt == 2)) || (r == 1 && mt == 8);
}

/// The most tokens one launch of a format's kernels takes (8 per token tile).
constexpr int mmaMaxTokens(int format) { return kMmaFormats[format].bcq ? 16 : 64; }

} // namespace sparq::cuda

#endif // SPARQ_RUNTIME_KERNELS_CUDA_MMAGEMM_H
