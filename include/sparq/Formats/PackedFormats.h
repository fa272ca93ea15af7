//===- include/sparq/Formats/PackedFormats.h - packed weight layouts -*- C++ -*-===//
//
// The single definition of every packed weight layout sparq uses: sub-byte integer codes, N:M
// sparsity metadata and binary-coded (BCQ) sign planes. The compiler packs with these functions and
// the runtime kernels unpack with them; docs/packed-formats.md describes the layouts in words.
//
// Header-only, C++17, freestanding: no allocation, no exceptions, no global state. All functions
// work on one row (the reduction dimension K of one output channel); rows are packed independently
// so that a kernel can address row r at `base + r * rowBytes`.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_FORMATS_PACKEDFORMATS_H
#define SPARQ_FORMATS_PACKEDFORMATS_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace sparq::formats {

//===----------------------------------------------------------------------===//
// Sub-byte codes
//
// A row of `count` codes of `bits` bits (1..8) is a little-endian bit stream: code i occupies bits
// [i*bits, (i+1)*bits) of the row, least-significant bit first, so codes of 3, 5, 6 or 7 bits may
// straddle a byte boundary. The row occupies packedRowBytes(count, bits) bytes; unused high bits
// of the last byte are zero. Signed values are stored as `bits`-bit two's complement.
//===----------------------------------------------------------------------===//

/// Bytes one packed row of `count` codes of `bits` bits occupies.
constexpr size_t packedRowBytes(size_t count, unsigned bits) {
  return (count * bits + 7) / 8;
}

/// Smallest and largest integer a `bits`-bit value can hold.
constexpr int minValue(unsigned bits, bool isSigned) {
  return isSigned ? -(1 << (bits - 1)) : 0;
}
constexpr int maxValue(unsigned bits, bool isSigned) {
  return isSigned ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
}

/// The `bits`-bit code of an integer value (two's complement truncation; the value must be in
/// [minValue, maxValue]).
constexpr uint8_t encode(int value, unsigned bits) {
  return static_cast<uint8_t>(static_cast<unsigned>(value) & ((1u << bits) - 1u));
}

/// The integer value of a `bits`-bit code.
constexpr int decode(uint8_t code, unsigned bits, bool isSigned) {
  if (!isSigned || bits == 0)
    return code;
  unsigned signBit = 1u << (bits - 1);
  return (code & signBit) ? static_cast<int>(code) - (1 << bits) : static_cast<int>(code);
}

/// ORs `code` (< 2^bits) into position `index` of a row whose bytes start out zero.
inline void putCode(uint8_t *row, size_t index, unsigned bits, uint8_t code) {
  size_t bit = index * bits;
  unsigned v = static_cast<unsigned>(code & ((1u << bits) - 1u)) << (bit % 8);
  row[bit / 8] |= static_cast<uint8_t>(v);
  if ((bit % 8) + bits > 8)
    row[bit / 8 + 1] |= static_cast<uint8_t>(v >> 8);
}

/// Writes `count` codes (each < 2^bits) into `out` (packedRowBytes(count, bits) bytes).
inline void packCodes(const uint8_t *codes, size_t count, unsigned bits, uint8_t *out) {
  for (size_t i = 0; i < packedRowBytes(count, bits); ++i)
    out[i] = 0;
  for (size_t i = 0; i < count; ++i)
    putCode(out, i, bits, codes[i]);
}

/// Reads code `index` of a packed row.
inline uint8_t codeAt(const uint8_t *row, size_t index, unsigned bits) {
  size_t bit = index * bits;
  unsigned v = row[bit / 8];
  if ((bit % 8) + bits > 8)
    v |= static_cast<unsigned>(row[bit / 8 + 1]) << 8;
  return static_cast<uint8_t>((v >> (bit % 8)) & ((1u << bits) - 1u));
}

/// Reads `count` codes of a packed row into `codes`.
inline void unpackCodes(const uint8_t *row, size_t count, unsigned bits, uint8_t *codes) {
  for (size_t i = 0; i < count; ++i)
    codes[i] = codeAt(row, i, bits);
}

//===----------------------------------------------------------------------===//
// Quantization groups
//
// A row of K values is split along K into groups of `groupSize` consecutive values, each with its
// own scale (and zero point); the last group holds the K mod groupSize remaining values when K is
// not a multiple. groupSize 0 means one group per row (per-channel).
//===----------------------------------------------------------------------===//

constexpr size_t numGroups(size_t k, size_t groupSize) {
  return groupSize == 0 ? 1 : (k + groupSize - 1) / groupSize;
}

constexpr size_t groupOf(size_t index, size_t groupSize) {
  return groupSize == 0 ? 0 : index / groupSize;
}

//===----------------------------------------------------------------------===//
// N:M structured sparsity
//
// Along K, each group of M consecutive values keeps at most N (N < M <= 16). A row of K values is
// padded with zeros to Kp = ceil(K / M) * M. The packed row is
//   - values:  nmKeptPerRow(K, N, M) = (Kp / M) * N kept values, group by group, in increasing
//              position order inside each group;
//   - indices: one code per kept value, its position inside the group (0..M-1), in
//              nmIndexBits(M) = ceil(log2 M) bits, packed as sub-byte codes (see above) in
//              nmIndexRowBytes(K, N, M) bytes.
// A group with fewer than N non-zeros keeps zeros too (the lowest free positions), so every group
// has exactly N entries. Positions >= K (padding) may appear and are dropped on unpack.
//===----------------------------------------------------------------------===//

constexpr unsigned nmIndexBits(unsigned m) {
  unsigned b = 0;
  while ((1u << b) < m)
    ++b;
  return b == 0 ? 1 : b;
}

constexpr size_t nmNumGroups(size_t k, unsigned m) { return (k + m - 1) / m; }

constexpr size_t nmKeptPerRow(size_t k, unsigned n, unsigned m) { return nmNumGroups(k, m) * n; }

constexpr size_t nmIndexRowBytes(size_t k, unsigned n, unsigned m) {
  return packedRowBytes(nmKeptPerRow(k, n, m), nmIndexBits(m));
}

constexpr bool nmValid(unsigned n, unsigned m) { return n >= 1 && n < m && m <= 16; }

/// Magnitude pruning of one row: in each group of M keeps the N values of largest |x| (ties go to
/// the lower position) and zeroes the rest. `in` and `out` may alias.
template <typename T>
void nmPruneRow(const T *in, size_t k, unsigned n, unsigned m, T *out) {
  for (size_t g0 = 0; g0 < k; g0 += m) {
    size_t len = (k - g0 < m) ? k - g0 : m;
    bool keep[16] = {};
    for (unsigned kept = 0; kept < n && kept < len; ++kept) {
      size_t best = len;
      for (size_t j = 0; j < len; ++j) {
        if (keep[j])
          continue;
        T a = in[g0 + j] < T(0) ? -in[g0 + j] : in[g0 + j];
        if (best == len) {
          best = j;
          continue;
        }
        T b = in[g0 + best] < T(0) ? -in[g0 + best] : in[g0 + best];
        if (a > b)
          best = j;
      }
      keep[best] = true;
    }
    for (size_t j = 0; j < len; ++j)
      out[g0 + j] = keep[j] ? in[g0 + j] : T(0);
  }
}

/// True when every group of M values of the row has at most N non-zeros.
template <typename T>
bool nmIsValidRow(const T *row, size_t k, unsigned n, unsigned m) {
  for (size_t g0 = 0; g0 < k; g0 += m) {
    unsigned nz = 0;
    for (size_t j = g0; j < k && j < g0 + m; ++j)
      nz += row[j] != T(0);
    if (nz > n)
      return false;
  }
  return true;
}

/// Packs an N:M-valid row (check with nmIsValidRow first) into `values`
/// (nmKeptPerRow elements) and `indices` (nmIndexRowBytes bytes). Returns false, writing nothing
/// meaningful, if a group has more than N non-zeros.
template <typename T>
bool nmPackRow(const T *dense, size_t k, unsigned n, unsigned m, T *values, uint8_t *indices) {
  unsigned ibits = nmIndexBits(m);
  size_t groups = nmNumGroups(k, m);
  uint8_t pos[16];
  size_t out = 0;
  for (size_t i = 0; i < nmIndexRowBytes(k, n, m); ++i)
    indices[i] = 0;
  for (size_t g = 0; g < groups; ++g) {
    bool taken[16] = {};
    unsigned count = 0;
    for (unsigned j = 0; j < m; ++j) {
      size_t kk = g * m + j;
      if (kk < k && dense[kk] != T(0)) {
        if (count == n)
          return false;
        taken[j] = true;
        ++count;
      }
    }
    for (unsigned j = 0; j < m && count < n; ++j)
      if (!taken[j]) {
        taken[j] = true;
        ++count;
      }
    unsigned slot = 0;
    for (unsigned j = 0; j < m; ++j) {
      if (!taken[j])
        continue;
      size_t kk = g * m + j;
      values[out + slot] = kk < k ? dense[kk] : T(0);
      pos[slot] = static_cast<uint8_t>(j);
      ++slot;
    }
    // Index codes of this group are entries [out, out + n) of the index stream.
    for (unsigned slotIdx = 0; slotIdx < n; ++slotIdx)
      putCode(indices, out + slotIdx, ibits, pos[slotIdx]);
    out += n;
  }
  return true;
}

/// Unpacks a row packed by nmPackRow into `dense` (K values, zeros where nothing was kept).
template <typename T>
void nmUnpackRow(const T *values, const uint8_t *indices, size_t k, unsigned n, unsigned m,
                 T *dense) {
  for (size_t i = 0; i < k; ++i)
    dense[i] = T(0);
  unsigned ibits = nmIndexBits(m);
  size_t kept = nmKeptPerRow(k, n, m);
  for (size_t s = 0; s < kept; ++s) {
    size_t kk = (s / n) * m + codeAt(indices, s, ibits);
    if (kk < k)
      dense[kk] = values[s];
  }
}

//===----------------------------------------------------------------------===//
// Binary-coded quantization (shift-add)
//
// W ~= sum_{i < q} alpha_i (.) B_i with B_i in {-1, +1}^{rows x K}. Each plane i stores one bit
// per weight, 1 for +1 and 0 for -1, as 1-bit codes (LSB first), so byte j of a row holds the
// signs of K positions 8j..8j+7 - exactly the index into a lookup table of partial sums of 8
// activations. A row occupies bcqRowBytes(K) bytes; padding bits past K are 0 and the kernels pad
// activations with zeros, so the padding contributes nothing. Planes are stored plane-major:
// plane i, row r at offset (i * rows + r) * bcqRowBytes(K).
//===----------------------------------------------------------------------===//

constexpr size_t bcqRowBytes(size_t k) { return (k + 7) / 8; }

/// Packs one row of signs (any value >= 0 counts as +1, < 0 as -1).
template <typename T>
void bcqPackRow(const T *signs, size_t k, uint8_t *out) {
  for (size_t i = 0; i < bcqRowBytes(k); ++i)
    out[i] = 0;
  for (size_t i = 0; i < k; ++i)
    if (!(signs[i] < T(0)))
      out[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
}

/// The sign (+1 or -1) at position `index` of a packed row.
inline int bcqSignAt(const uint8_t *row, size_t index) {
  return (row[index / 8] >> (index % 8)) & 1u ? 1 : -1;
}

//===----------------------------------------------------------------------===//
// Integer codes as binary-coded planes (the lookup-table kernel on 1- to 3-bit codes)
//
// A code c of B bits with the value s * (f - z), where f = c and z the zero point for unsigned
// codes, and f = c ^ 2^(B-1) = v + 2^(B-1) (v the two's complement value) and z = 2^(B-1) for
// signed ones, is a sum of B signed bit planes plus an offset: with b_i bit i of f,
//   s * (f - z) = sum_{i<B} (s * 2^(i-1)) * (2 b_i - 1) + s * ((2^B - 1) / 2 - z),
// so plane i holds bit i of f (1 = +1), alpha_i = s * 2^(i-1), and the offset multiplies the
// group's sum of activations (sparq_uk_lutgemm_f32's offsets).
//===----------------------------------------------------------------------===//

/// The B planes of one packed row of `count` codes of `bits` bits (signed: two's complement),
/// plane i written as a sign row (bcqRowBytes(count) bytes) at planes + i * planeStride.
inline void codesAsSignPlanes(const uint8_t *row, size_t count, unsigned bits, bool isSigned,
                              uint8_t *planes, size_t planeStride) {
  const uint8_t flip = isSigned ? uint8_t(1u << (bits - 1)) : uint8_t(0);
  for (unsigned i = 0; i < bits; ++i)
    for (size_t j = 0; j < bcqRowBytes(count); ++j)
      planes[i * planeStride + j] = 0;
  for (size_t k = 0; k < count; ++k) {
    const uint8_t f = codeAt(row, k, bits) ^ flip;
    for (unsigned i = 0; i < bits; ++i)
      if ((f >> i) & 1u)
        planes[i * planeStride + k / 8] |= uint8_t(1u << (k % 8));
  }
}

/// The plane scale alpha_i and the offset of codes of `bits` bits with scale s and zero point
/// z (signed codes: z = 2^(bits-1), see above).
constexpr double signPlaneAlpha(double s, unsigned i) { return s * double(1u << i) / 2.0; }
constexpr double signPlaneOffset(double s, unsigned bits, double z) {
  return s * (double((1u << bits) - 1) / 2.0 - z);
}

//===----------------------------------------------------------------------===//
// Binary-coded planes interleaved by 16 rows (the lookup-table kernels' layout)
//
// The same sign bits and scales, reordered at compile time for sparq_uk_lutgemm_f32 and
// sparq_uk_lutgemm_i8_f32: rows in blocks of 16 (the last block padded with zero rows), K in
// dwords of 32 positions. Plane i of block b, dword d is one 64-byte vector at
// ((b * q + i) * dwords + d) * 64: bytes 4r..4r+3 are bytes 4d..4d+3 of row 16b + r (zero past
// the row's bcqRowBytes(K) bytes), so a kernel reads the weight block after block, plane after
// plane, as one sequential stream of whole vectors, one lane per row. The scales
// [q][rows][groups] become 16-float vectors: alpha_i(16b + r, g) at
// ((b * q + i) * groups + g) * 16 + r (zero for padding rows).
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Int8 dot-product panels (sparq_uk_igemm_s8_f32, runtime/kernels/Int8Gemm.cpp): an [N, K]
// int8 weight as panels of 16 rows, each a sequence of 64-byte vectors, one per dword of 4
// positions of K. Vector d of panel p, at (p * dwords + d) * 64, holds in bytes 4r..4r+3 the
// values of row 16p + r at k = 4d..4d+3 (zero past N or K): one vpdpbusd multiplies them by 4
// activations broadcast to every lane, one lane per row.
//===----------------------------------------------------------------------===//

constexpr size_t kInt8PanelRows = 16;
constexpr size_t int8Panels(size_t rows) { return (rows + kInt8PanelRows - 1) / kInt8PanelRows; }
constexpr size_t int8PanelDwords(size_t k) { return (k + 3) / 4; }
constexpr size_t int8PanelBytes(size_t rows, size_t k) {
  return int8Panels(rows) * int8PanelDwords(k) * 64;
}

/// Lays out value(n, k) (an int8_t, n < rows, k < K) as int8 dot-product panels in `out`
/// (int8PanelBytes(rows, k) bytes).
template <typename F> void int8PackPanels(size_t rows, size_t k, F value, int8_t *out) {
  const size_t panels = int8Panels(rows), dwords = int8PanelDwords(k);
  for (size_t p = 0; p < panels; ++p)
    for (size_t d = 0; d < dwords; ++d) {
      int8_t *v = out + (p * dwords + d) * 64;
      for (size_t r = 0; r < kInt8PanelRows; ++r)
        for (size_t j = 0; j < 4; ++j) {
          const size_t n = p * kInt8PanelRows + r, kk = 4 * d + j;
          v[4 * r + j] = n < rows && kk < k ? int8_t(value(n, kk)) : int8_t(0);
        }
    }
}

constexpr size_t kBcqInterleaveRows = 16;
constexpr size_t bcqInterleavedBlocks(size_t rows) {
  return (rows + kBcqInterleaveRows - 1) / kBcqInterleaveRows;
}
constexpr size_t bcqInterleavedDwords(size_t k) { return (k + 31) / 32; }
/// Bytes of q interleaved planes of `rows` rows of K positions.
constexpr size_t bcqInterleavedBytes(size_t q, size_t rows, size_t k) {
  return q * bcqInterleavedBlocks(rows) * bcqInterleavedDwords(k) * 64;
}

/// Interleaves q plane-major planes of `rows` packed rows (bcqPackRow; row r of plane i at
/// codes + (i * rows + r) * rowBytes, rowBytes >= bcqRowBytes(k)) into `out`
/// (bcqInterleavedBytes(q, rows, k) bytes).
inline void bcqInterleaveRows16(const uint8_t *codes, size_t q, size_t rows, size_t k,
                                size_t rowBytes, uint8_t *out) {
  const size_t blocks = bcqInterleavedBlocks(rows), dwords = bcqInterleavedDwords(k);
  const size_t used = bcqRowBytes(k);
  for (size_t i = 0; i < q; ++i)
    for (size_t b = 0; b < blocks; ++b)
      for (size_t d = 0; d < dwords; ++d) {
        uint8_t *v = out + ((b * q + i) * dwords + d) * 64;
        for (size_t r = 0; r < kBcqInterleaveRows; ++r)
          for (size_t j = 0; j < 4; ++j) {
            const size_t row = b * kBcqInterleaveRows + r, byte = 4 * d + j;
            v[4 * r + j] = row < rows && byte < used ? codes[(i * rows + row) * rowBytes + byte] : 0;
          }
      }
}

/// Interleaves scales [q][rows][groups] into `out` (q * blocks * groups * 16 values).
template <typename T>
void bcqInterleaveScales16(const T *scales, size_t q, size_t rows, size_t groups, T *out) {
  const size_t blocks = bcqInterleavedBlocks(rows);
  for (size_t i = 0; i < q; ++i)
    for (size_t b = 0; b < blocks; ++b)
      for (size_t g = 0; g < groups; ++g)
        for (size_t r = 0; r < kBcqInterleaveRows; ++r) {
          const size_t row = b * kBcqInterleaveRows + r;
          out[((b * q + i) * groups + g) * kBcqInterleaveRows + r] =
              row < rows ? scales[(i * rows + row) * groups + g] : T(0);
        }
}

} // namespace sparq::formats

#endif // SPARQ_FORMATS_PACKEDFORMATS_H
