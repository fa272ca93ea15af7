//===- include/sparq/Formats/InvertedResidual.h - packed inverted-residual block -*- C++ -*-===//
//
// The one constant buffer the block kernel (sparq_uk_mbconv_f32, runtime/kernels/
// InvertedResidual.cpp) reads a convolution block's weights from: a 1x1 expand convolution
// (CE x C filter), a KH x KW middle convolution (depthwise: CE filters, CM = CE; or full: CM x CE
// filters), a 1x1 project convolution (CO x CM) and optionally a 1x1 shortcut convolution of the
// block input (CO x C), each with its bias, and the clamps the block's activations apply. The
// kernel keeps the block's intermediates channels-last (one pixel's channels contiguous), so
// every section is laid out for a vector along the output channels, padded to a multiple of
// kChannelAlign channels with zeros:
//
//   clamps   16 floats: [lo, hi] of the expand, middle and project activations and of the one
//            after the shortcut is added (an absent activation is [-inf, +inf]), then zeros
//   expand   C x CEp              E[c][e]        = expand filter [e][c]
//   biasE    CEp
//   middle   depthwise: KH*KW x CEp         D[t][e]    = filter [e][t]
//            full:      KH*KW x CE x CMp    M[t][e][m] = filter [m][e][t]
//   biasM    CMp
//   project  CM x COp             P[m][o]        = project filter [o][m]
//   biasP    COp
//   shortcut C x COp, then biasS COp (only for a block with a projection shortcut)
//
// where CEp, CMp and COp are CE, CM and CO rounded up to kChannelAlign. The IN x OUTp matrices
// (E, P, the shortcut and each tap's M[t]) are stored in column blocks of kPointwiseBlock
// channels (the last one narrower), each block's IN rows contiguous (pointwiseOffset): the
// kernel's register tiles read one block, which then stays in L1 (with rows of a whole 256- or
// 512-channel matrix, the rows a tile reads were 1-2 KiB apart and fell into a quarter of L1's
// sets). Every section starts on a 64-byte boundary when the buffer does. The compiler packs
// with packInvertedResidual at compile time; the kernel tests use it too. A filter computed in the model (decoded from
// compressed weights) is packed at each call into a copy of that buffer by
// sparq_uk_mbconv_pack_f32, with the same section packers. Header-only, C++17, freestanding.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_FORMATS_INVERTEDRESIDUAL_H
#define SPARQ_FORMATS_INVERTEDRESIDUAL_H

#include <cstdint>

namespace sparq::formats {

/// Channel padding of every section: a multiple of both kernel variants' vector lengths.
constexpr int64_t kChannelAlign = 16;
constexpr int64_t kClampFloats = 16;
/// Channels per column block of a 1x1 (and full middle) filter matrix: four vectors of the
/// AVX-512 kernel (the channels of one register tile), a multiple of kChannelAlign.
constexpr int64_t kPointwiseBlock = 64;

constexpr int64_t alignChannels(int64_t c) {
  return (c + kChannelAlign - 1) / kChannelAlign * kChannelAlign;
}

/// Float offsets of the sections of a block with C input, CE expanded, CM middle and CO output
/// channels, a KH x KW middle filter (`full`: a full convolution, else depthwise with CM = CE)
/// and, with `projection`, a shortcut convolution.
struct InvertedResidualLayout {
  int64_t expand, biasE, middle, biasM, project, biasP, shortcut, biasS, total;
  constexpr InvertedResidualLayout(int64_t C, int64_t CE, int64_t CM, int64_t CO, int64_t KH,
                                   int64_t KW, bool full, bool projection)
      : expand(kClampFloats), biasE(expand + C * alignChannels(CE)),
        middle(biasE + alignChannels(CE)),
        biasM(middle + KH * KW * (full ? CE * alignChannels(CM) : alignChannels(CE))),
        project(biasM + alignChannels(CM)), biasP(project + CM * alignChannels(CO)),
        shortcut(biasP + alignChannels(CO)),
        biasS(shortcut + (projection ? C * alignChannels(CO) : 0)),
        total(biasS + (projection ? alignChannels(CO) : 0)) {}
};

/// The first channel of the column block that holds channel o of a filter matrix.
constexpr int64_t pointwiseBlockStart(int64_t o) {
  return o / kPointwiseBlock * kPointwiseBlock;
}
/// The width (row stride) of the column block from channel b0 of a matrix of OUTp channels:
/// kPointwiseBlock, or the rest of OUTp when that is less.
constexpr int64_t pointwiseBlockWidth(int64_t b0, int64_t OUTp) {
  return OUTp - b0 < kPointwiseBlock ? OUTp - b0 : kPointwiseBlock;
}
/// Where row i, channel o of an IN x OUTp filter matrix is, from the matrix's start: in its
/// column block, whose rows are contiguous.
constexpr int64_t pointwiseOffset(int64_t i, int64_t o, int64_t IN, int64_t OUTp) {
  const int64_t b0 = pointwiseBlockStart(o);
  return b0 * IN + i * pointwiseBlockWidth(b0, OUTp) + (o - b0);
}

/// The filter sections alone. A 1x1 filter (expand, project, shortcut) at float offset `at`:
/// filter(o, i) for OUT output and IN input channels, stored as IN rows of OUT channels padded
/// to alignChannels(OUT), in column blocks (pointwiseOffset). The middle filter: middle(m, e,
/// kh, kw) (depthwise: called with m == e). Padding lanes are left as they are (zero in a
/// buffer from packInvertedResidual). packInvertedResidual packs with them at compile time;
/// sparq_uk_mbconv_pack_f32 packs the filters decoded from compressed weights with them at
/// each call.
template <typename T, typename Filter>
void packPointwiseSection(T *out, int64_t at, int64_t IN, int64_t OUT, Filter filter) {
  const int64_t OUTp = alignChannels(OUT);
  for (int64_t i = 0; i < IN; ++i)
    for (int64_t o = 0; o < OUT; ++o)
      out[at + pointwiseOffset(i, o, IN, OUTp)] = T(filter(o, i));
}
/// Where the middle filter's value for output channel m, input channel e and tap (kh, kw) is
/// in the filter as the model holds it, row-major: full CM x CE x KH x KW, depthwise CM x KH x
/// KW (e == m).
constexpr int64_t middleFilterIndex(int64_t m, int64_t e, int64_t kh, int64_t kw, int64_t CE,
                                    int64_t KH, int64_t KW, bool full) {
  return full ? ((m * CE + e) * KH + kh) * KW + kw : (m * KH + kh) * KW + kw;
}
template <typename T, typename Middle>
void packMiddleSection(T *out, const InvertedResidualLayout &l, int64_t CE, int64_t CM,
                       int64_t KH, int64_t KW, bool full, Middle middle) {
  const int64_t CEp = alignChannels(CE), CMp = alignChannels(CM);
  for (int64_t kh = 0; kh < KH; ++kh)
    for (int64_t kw = 0; kw < KW; ++kw) {
      const int64_t t = kh * KW + kw;
      for (int64_t e = 0; e < CE; ++e) {
        if (!full) {
          out[l.middle + t * CEp + e] = T(middle(e, e, kh, kw));
          continue;
        }
        for (int64_t m = 0; m < CM; ++m)
          out[l.middle + t * CE * CMp + pointwiseOffset(e, m, CE, CMp)] =
              T(middle(m, e, kh, kw));
      }
    }
}

/// Packs a block into `out` (InvertedResidualLayout(...).total floats). expand(e, c),
/// middle(m, e, kh, kw) (depthwise: called with m == e), project(o, m) and shortcut(o, c)
/// return filter values; biasE(e), biasM(m), biasP(o), biasS(o) the biases (0 where the
/// convolution has none); clamps holds the eight activation bounds.
template <typename T, typename Expand, typename Middle, typename Project, typename Shortcut,
          typename BiasE, typename BiasM, typename BiasP, typename BiasS>
void packInvertedResidual(T *out, int64_t C, int64_t CE, int64_t CM, int64_t CO, int64_t KH,
                          int64_t KW, bool full, bool projection, const float (&clamps)[8],
                          Expand expand, Middle middle, Project project, Shortcut shortcut,
                          BiasE biasE, BiasM biasM, BiasP biasP, BiasS biasS) {
  const InvertedResidualLayout l(C, CE, CM, CO, KH, KW, full, projection);
  for (int64_t i = 0; i < l.total; ++i)
    out[i] = T(0);
  for (int i = 0; i < 8; ++i)
    out[i] = T(clamps[i]);
  packPointwiseSection(out, l.expand, C, CE, expand);
  for (int64_t e = 0; e < CE; ++e)
    out[l.biasE + e] = T(biasE(e));
  packMiddleSection(out, l, CE, CM, KH, KW, full, middle);
  for (int64_t m = 0; m < CM; ++m)
    out[l.biasM + m] = T(biasM(m));
  packPointwiseSection(out, l.project, CM, CO, project);
  for (int64_t o = 0; o < CO; ++o) {
    out[l.biasP + o] = T(biasP(o));
    if (projection)
      out[l.biasS + o] = T(biasS(o));
  }
  if (projection)
    packPointwiseSection(out, l.shortcut, C, CO, shortcut);
}

/// Bytes of stack one task of the kernel uses at most for a block (its expanded-row ring, SH
/// rows more for output rows computed in pairs, two rows of the middle convolution and two
/// project rows), for the compiler's choice.
constexpr int64_t invertedResidualScratchBytes(int64_t W, int64_t CE, int64_t CM, int64_t CO,
                                               int64_t KH, int64_t DH, int64_t SH,
                                               int64_t padW, int64_t OW) {
  return 4 * ((((KH - 1) * DH + 1 + SH) * (W + padW)) * alignChannels(CE) +
              2 * OW * alignChannels(CM) + 2 * OW * alignChannels(CO));
}

} // namespace sparq::formats

#endif // SPARQ_FORMATS_INVERTEDRESIDUAL_H
