//===- include/sparq/Formats/DensePanels.h - panel-packed dense weights -*- C++ -*-===//
//
// The layout the dense f32 GEMM/GEMV kernels read a constant right-hand side B (K x N) in: panels
// of `nr` consecutive columns (the last zero-padded past N), stored block by block along K: the
// rows are cut into blocks of kPanelBlockRows (the last block shorter), and block b holds, panel
// after panel, that block's rows of each panel (rows x nr values, row-major). A kernel's pass
// over one K block therefore reads one contiguous stretch of memory (hardware prefetcher and TLB
// friendly), and the slice of panel p it keeps in L1 is contiguous too (panelSliceOffset).
//
// The compiler packs weights with packPanels at compile time; the kernel tests use it too.
// Header-only, C++17, freestanding.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_FORMATS_DENSEPANELS_H
#define SPARQ_FORMATS_DENSEPANELS_H

#include <cstddef>
#include <cstdint>

namespace sparq::formats {

/// Rows per K block of the panel layout; the kernels' reduction block (runtime/kernels/Tile.h).
constexpr int64_t kPanelBlockRows = 256;

/// The register tile of the f32 kernel variant whose vector registers hold `vectorFloats` floats
/// (16: AVX-512, 8: AVX2): its width is the panel width of packed weights (two vectors), its
/// height the row-tile height of packed filters. The kernels (runtime/kernels/Tile.h) and the
/// compiler that packs for them both read it here.
constexpr int64_t panelWidthFor(int64_t vectorFloats) { return 2 * vectorFloats; }
constexpr int64_t tileRowsFor(int64_t vectorFloats) { return vectorFloats == 16 ? 8 : 6; }

/// Number of panels of width nr covering n columns.
constexpr int64_t panelCount(int64_t n, int64_t nr) { return (n + nr - 1) / nr; }

/// Element offset, in a packed K x N matrix of `panels` panels of width nr, of the slice of panel
/// p that holds the rows of K block b (its min(kPanelBlockRows, k - b * kPanelBlockRows) rows).
constexpr int64_t panelSliceOffset(int64_t k, int64_t panels, int64_t nr, int64_t b, int64_t p) {
  int64_t rows = k - b * kPanelBlockRows < kPanelBlockRows ? k - b * kPanelBlockRows
                                                           : kPanelBlockRows;
  return b * kPanelBlockRows * panels * nr + p * rows * nr;
}

/// Elements of the packed form of a K x N matrix.
constexpr int64_t packedPanelElements(int64_t k, int64_t n, int64_t nr) {
  return panelCount(n, nr) * k * nr;
}

/// Packs B into `out` (packedPanelElements(k, n, nr) elements). `at(kk, nn)` returns B[kk][nn],
/// so any source layout (K x N, or N x K for a transposed weight) packs the same way.
template <typename T, typename At>
void packPanels(int64_t k, int64_t n, int64_t nr, At at, T *out) {
  for (int64_t k0 = 0; k0 < k; k0 += kPanelBlockRows) {
    int64_t rows = k - k0 < kPanelBlockRows ? k - k0 : kPanelBlockRows;
    for (int64_t p = 0, np = panelCount(n, nr); p < np; ++p)
      for (int64_t kk = k0; kk < k0 + rows; ++kk)
        for (int64_t j = 0; j < nr; ++j) {
          int64_t col = p * nr + j;
          *out++ = col < n ? static_cast<T>(at(kk, col)) : T(0);
        }
  }
}

/// The left-hand side counterpart: an M x K matrix in tiles of `mr` rows, each tile K steps of
/// mr values (row r of step k at tile[k * mr + r]), the last tile zero-padded past M. This is
/// how the convolution kernel reads a constant filter (M = output channels, K = C*KH*KW).
template <typename T, typename At>
void packRowTiles(int64_t m, int64_t k, int64_t mr, At at, T *out) {
  for (int64_t t = 0, nt = panelCount(m, mr); t < nt; ++t)
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t r = 0; r < mr; ++r) {
        int64_t row = t * mr + r;
        *out++ = row < m ? static_cast<T>(at(row, kk)) : T(0);
      }
}

} // namespace sparq::formats

#endif // SPARQ_FORMATS_DENSEPANELS_H
