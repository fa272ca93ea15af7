//===- include/sparq/Formats/InvertedResidual.h - packed inverted-residual block -*- C++ -*-===//
//
// The one constant buffer the inverted-residual block kernel (sparq_uk_mbconv_f32,
// runtime/kernels/InvertedResidual.cpp) reads a MobileNet-style block's weights from: a 1x1
// expand convolution (CE x C filter), a KH x KW depthwise convolution (CE filters) and a 1x1
// project convolution (CO x CE), each with its bias and the clamp its activation applies. The
// kernel keeps the block's intermediates channels-last (one pixel's CE channels contiguous), so
// every section is laid out for a vector along the output channels, padded to a multiple of
// kChannelAlign channels with zeros:
//
//   clamps   16 floats: [lo, hi] of the expand, depthwise and project activations (an
//            activation that is absent is [-inf, +inf]), then zeros
//   expand   C x CEp      E[c][e]  = expand filter [e][c]
//   biasE    CEp
//   dw       KH*KW x CEp  D[t][e]  = depthwise filter [e][t]
//   biasD    CEp
//   project  CE x COp     P[e][o]  = project filter [o][e]
//   biasP    COp
//
// where CEp and COp are CE and CO rounded up to kChannelAlign. Every section starts on a
// 64-byte boundary when the buffer does. The compiler packs with packInvertedResidual at compile
// time; the kernel tests use it too. Header-only, C++17, freestanding.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_FORMATS_INVERTEDRESIDUAL_H
#define SPARQ_FORMATS_INVERTEDRESIDUAL_H

#include <cstdint>

namespace sparq::formats {

/// Channel padding of every section: a multiple of both kernel variants' vector lengths.
constexpr int64_t kChannelAlign = 16;
constexpr int64_t kClampFloats = 16;

constexpr int64_t alignChannels(int64_t c) {
  return (c + kChannelAlign - 1) / kChannelAlign * kChannelAlign;
}

/// Float offsets of the sections of a block with C input, CE expanded and CO output channels
/// and a KH x KW depthwise filter.
struct InvertedResidualLayout {
  int64_t expand, biasE, dw, biasD, project, biasP, total;
  constexpr InvertedResidualLayout(int64_t C, int64_t CE, int64_t CO, int64_t KH, int64_t KW)
      : expand(kClampFloats), biasE(expand + C * alignChannels(CE)),
        dw(biasE + alignChannels(CE)), biasD(dw + KH * KW * alignChannels(CE)),
        project(biasD + alignChannels(CE)), biasP(project + CE * alignChannels(CO)),
        total(biasP + alignChannels(CO)) {}
};

/// Packs a block into `out` (InvertedResidualLayout(...).total floats). expand(e, c),
/// dw(e, kh, kw), project(o, e) return filter values; biasE(e), biasD(e), biasP(o) the biases
/// (0 where the convolution has none); clamps holds the six activation bounds.
template <typename T, typename Expand, typename Depthwise, typename Project, typename BiasE,
          typename BiasD, typename BiasP>
void packInvertedResidual(T *out, int64_t C, int64_t CE, int64_t CO, int64_t KH, int64_t KW,
                          const float (&clamps)[6], Expand expand, Depthwise dw,
                          Project project, BiasE biasE, BiasD biasD, BiasP biasP) {
  const InvertedResidualLayout l(C, CE, CO, KH, KW);
  const int64_t CEp = alignChannels(CE), COp = alignChannels(CO);
  for (int64_t i = 0; i < l.total; ++i)
    out[i] = T(0);
  for (int i = 0; i < 6; ++i)
    out[i] = T(clamps[i]);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t e = 0; e < CE; ++e)
      out[l.expand + c * CEp + e] = T(expand(e, c));
  for (int64_t e = 0; e < CE; ++e) {
    out[l.biasE + e] = T(biasE(e));
    out[l.biasD + e] = T(biasD(e));
    for (int64_t kh = 0; kh < KH; ++kh)
      for (int64_t kw = 0; kw < KW; ++kw)
        out[l.dw + (kh * KW + kw) * CEp + e] = T(dw(e, kh, kw));
    for (int64_t o = 0; o < CO; ++o)
      out[l.project + e * COp + o] = T(project(o, e));
  }
  for (int64_t o = 0; o < CO; ++o)
    out[l.biasP + o] = T(biasP(o));
}

/// Bytes of stack one task of the kernel uses for a block (its expanded-row ring, one
/// depthwise output row and one project output row), for the compiler's choice and the
/// kernel's own check.
constexpr int64_t invertedResidualScratchBytes(int64_t W, int64_t CE, int64_t CO, int64_t KH,
                                               int64_t DH, int64_t padW, int64_t OW) {
  return 4 * ((((KH - 1) * DH + 1) * (W + padW) + OW) * alignChannels(CE) +
              OW * alignChannels(CO));
}

} // namespace sparq::formats

#endif // SPARQ_FORMATS_INVERTEDRESIDUAL_H
