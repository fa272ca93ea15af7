//===- runtime/kernels/Attention.cpp - attention with an online softmax ----------===//
//
// O = softmax(scale * Q Kᵀ + mask) V, one (batch, block of QB query rows) per task, streamed over
// blocks of KB keys (FlashAttention's online softmax: a running row maximum m and sum l, the
// accumulated output rescaled by exp(m_old - m_new) when the maximum grows), so the S x T score
// matrix never exists: a task holds QB x D outputs and RG x KB probabilities. Per key block and
// group of RG rows: scores as KT register tiles of RG x KBV vectors over d (Kᵀ rows are
// contiguous along the keys), then the softmax update (the R rescale factors as one vector),
// then the RG x D output tile over the block's keys (V rows are contiguous along d). Causal
// masking skips the key blocks past a task's last row; the blocks it cuts are masked lane by
// lane.
//
//===----------------------------------------------------------------------===//
#include "Tile.h"

#include "sparq/Kernels/UKernels.h"

using namespace sparq::kernels;

namespace {

/// Query rows per register tile: RG x KBV score accumulators plus KBV key vectors fit the
/// registers (32 with AVX-512, 16 with AVX2; measured 4 vs 2 rows: +26 % with AVX2).
constexpr int RG = V == 16 ? 4 : 2;
constexpr int KBV = 4;       ///< vectors of keys per score register tile
constexpr int KT = 2;        ///< score tiles per key block
constexpr int KB = KT * KBV * V; ///< keys per block (the softmax update's reductions and the
                                 ///< output rescale are paid once per block and row)
constexpr int QB = SPARQ_UK_ATTENTION_ROWS; ///< query rows per task
/// Keys per block of the shared packed Kᵀ (kpack): whole kernel blocks.
constexpr int PK = SPARQ_UK_ATTENTION_KEYS;
static_assert(PK % KB == 0, "a packed block holds whole key blocks");
constexpr int64_t DMAX = 256; ///< largest head dimension (sparq-compile checks it)

typedef int32_t vi __attribute__((vector_size(V * sizeof(int32_t))));

/// exp(x) for x <= 0 (every argument here is a difference from a running maximum): 2^n * e^r,
/// n = round(x / ln 2), r = x - n ln 2 in two parts (Cody-Waite), e^r by a polynomial of degree 5
/// on |r| <= ln2 / 2 whose coefficients were fitted for relative error (least squares on 4000
/// Chebyshev nodes; 1.7e-7 relative evaluated in float, against 1e-8 for the degree-7 Taylor
/// polynomial it replaced at two more FMAs per vector). x < -87.3 (e^x below the smallest normal
/// float) and -inf give 0 (whatever the lanes computed); NaN stays NaN.
SPARQ_UK_INLINE vf expNonPositive(vf x) {
  const vf lo = splat(-87.33654f), zero = {};
  const vf shifter = splat(12582912.0f); // 1.5 * 2^23: adding it rounds to an integer
  vf t = x * splat(1.44269504088896341f) + shifter;
  vf n = t - shifter;
  vf r = x - n * splat(0.693145751953125f);
  r = r - n * splat(1.428606765330187045e-06f);
  vf p = splat(0.00826153066009283f);
  p = p * r + splat(0.041898731142282486f);
  p = p * r + splat(0.16668114066123962f);
  p = p * r + splat(0.49999141693115234f);
  p = p * r + splat(0.9999995231628418f);
  p = p * r + splat(1.0f);
  vi bits = ((vi)t - (vi)shifter + 127) << 23;
  vf y = p * (vf)bits;
  return x < lo ? zero : y;
}

struct Args {
  float *O;
  int64_t sO, ldo;
  const float *Q;
  int64_t sQ, ldq;
  const float *K; // Kᵀ: D rows of T keys, or with kRows K: T rows of D
  int64_t sK, ldk;
  const float *Vm;
  int64_t sV, ldv;
  const float *M; // additive mask or null
  int64_t sM, ldm;
  int64_t B, S, T, D;
  float scale;
  int64_t offset;
  bool causal, kRows;
  float *kpack; // B x ceil(T / PK) x D x PK, or null
};

/// Keys [j0, j0 + kb) of the batch whose K (or Kᵀ) is K, as D rows of W keys (0 from kb on) at
/// dst: from K rows V x V at a time transposed in registers, from Kᵀ copied.
template <int W>
void packBlock(const Args &a, const float *K, int64_t j0, int64_t kb, float *dst) {
  if (a.kRows) {
    for (int64_t d0 = 0; d0 < a.D; d0 += V) {
      const vmask dl = laneMask(0, int(a.D - d0));
      for (int c = 0; c < W / V; ++c) {
        vf r[V];
        for (int i = 0; i < V; ++i) {
          const int64_t j = c * V + i;
          r[i] = j >= kb ? vf{} : maskedLoad(K + (j0 + j) * a.ldk + d0, dl);
        }
        transpose(r);
        for (int i = 0; i < V && d0 + i < a.D; ++i)
          store(dst + (d0 + i) * W + c * V, r[i]);
      }
    }
    return;
  }
  for (int64_t d = 0; d < a.D; ++d) {
    const float *src = K + d * a.ldk + j0;
    for (int c = 0; c < W / V; ++c)
      store(dst + d * W + c * V,
            (c + 1) * V <= kb ? load(src + c * V)
                              : maskedLoad(src + c * V, laneMask(0, int(kb - c * V))));
  }
}

/// Key blocks of PK keys per batch in kpack (the last one partial).
SPARQ_UK_INLINE int64_t packedBlocks(const Args &a) { return (a.T + PK - 1) / PK; }

/// Packs keys [blk PK, blk PK + PK) of batch b into kpack.
void packKeys(const Args &a, int64_t b, int64_t blk) {
  const int64_t blocks = packedBlocks(a), j0 = blk * PK;
  packBlock<PK>(a, a.K + b * a.sK, j0, a.T - j0 < PK ? a.T - j0 : PK,
                a.kpack + (b * blocks + blk) * a.D * PK);
}

/// The R x KB scores of rows q[0..R) against keys [0, KB) of the Kᵀ block kp (D rows, ldk
/// apart; Full: all KB keys exist, otherwise only the first kb are read, the others are 0).
template <int R, bool Full>
SPARQ_UK_INLINE void scoreTile(int64_t D, const float *const *q, const float *kp, int64_t ldk,
                               int64_t kb, vf (&s)[R][KBV]) {
  for (int k = 0; k < R; ++k)
    for (int c = 0; c < KBV; ++c)
      s[k][c] = vf{};
  vmask lanes[KBV];
  if constexpr (!Full)
    for (int c = 0; c < KBV; ++c)
      lanes[c] = laneMask(0, int(kb - c * V));
  for (int64_t d = 0; d < D; ++d) {
    vf kv[KBV];
    for (int c = 0; c < KBV; ++c)
      kv[c] = Full ? load(kp + d * ldk + c * V) : maskedLoad(kp + d * ldk + c * V, lanes[c]);
    for (int k = 0; k < R; ++k) {
      vf qs = splat(q[k][d]);
      for (int c = 0; c < KBV; ++c)
        s[k][c] = qs * kv[c] + s[k][c];
    }
  }
}

/// acc[R rows][CV vectors from column dv*V] = acc * corr + P V over the block's kb keys.
template <int R, int CV>
SPARQ_UK_INLINE void outputTile(float *acc, int64_t dp, int64_t dv, const float *p,
                                const float *corr, const float *vb, int64_t ldv, int64_t kb) {
  vf o[R][CV];
  for (int k = 0; k < R; ++k)
    for (int c = 0; c < CV; ++c)
      o[k][c] = load(acc + k * dp + (dv + c) * V) * splat(corr[k]);
  for (int64_t j = 0; j < kb; ++j) {
    vf vv[CV];
    for (int c = 0; c < CV; ++c)
      vv[c] = load(vb + j * ldv + (dv + c) * V);
    for (int k = 0; k < R; ++k) {
      vf pk = splat(p[k * KB + j]);
      for (int c = 0; c < CV; ++c)
        o[k][c] = pk * vv[c] + o[k][c];
    }
  }
  for (int k = 0; k < R; ++k)
    for (int c = 0; c < CV; ++c)
      store(acc + k * dp + (dv + c) * V, o[k][c]);
}

/// Halves the vectors r[0, 2H) into r[0, H): lanes of r[i] and r[i + H] exchanged in H-lane
/// blocks and added (one stage of sumLanes).
template <int H> SPARQ_UK_INLINE void foldPairs(vf (&r)[V]) {
  for (int i = 0; i < H; ++i) {
    swapBlocks<H>(r[i], r[i + H]);
    r[i] = r[i] + r[i + H];
  }
}

/// The vector whose lane i is the sum of the lanes of r[i]: 2 (V - 1) shuffles, where a
/// transpose and V - 1 adds would take V log2 V.
SPARQ_UK_INLINE vf sumLanes(vf (&r)[V]) {
  if constexpr (V == 16)
    foldPairs<8>(r);
  foldPairs<4>(r);
  foldPairs<2>(r);
  foldPairs<1>(r);
  return r[0];
}

/// scale * (the scores of query row q against keys [0, kb) of K given as rows, ldk apart), into
/// p[0, kb) (whole vectors: lanes past kb hold 0), V keys at a time as V dot products over d
/// whose partial vectors are summed lane-wise. For a single query row this reads each key row
/// once, contiguously, and needs no transposed copy of the block.
SPARQ_UK_INLINE void scoreRowDot(int64_t D, const float *q, const float *K, int64_t ldk,
                                 int64_t kb, float scale, float *p) {
  const vmask tail = laneMask(0, int(D % V));
  for (int64_t c = 0; c * V < kb; ++c) {
    const int keys = kb - c * V < V ? int(kb - c * V) : V;
    vf acc[V];
    for (int i = 0; i < V; ++i)
      acc[i] = vf{};
    for (int64_t d = 0; d < D; d += V) {
      const bool whole = d + V <= D;
      const vf qv = whole ? load(q + d) : maskedLoad(q + d, tail);
      for (int i = 0; i < keys; ++i) {
        const float *k = K + (c * V + i) * ldk + d;
        acc[i] = qv * (whole ? load(k) : maskedLoad(k, tail)) + acc[i];
      }
    }
    store(p + c * V, sumLanes(acc) * splat(scale));
  }
}

/// What the row groups of one task share: its rows' running maxima m, sums l and output
/// accumulators (dp floats a row), and the current key block.
struct Task {
  const Args &a;
  int64_t i0, dp;
  const float *Q, *M;
  float *acc, *m, *l;
  // Key block [j0, j0 + kb): its Kᵀ (D rows ldk apart) and V rows (ldv apart, dp wide).
  int64_t j0, kb;
  const float *kt, *vb;
  int64_t ldk, ldv;
  bool full;
  bool dot; ///< kt is the block's K rows, read by dot products (scoreRowDot)
  /// Keys row i attends: [0, limit(i)).
  int64_t limit(int64_t i) const {
    return a.causal && i + a.offset + 1 < a.T ? i + a.offset + 1 : a.T;
  }
};

/// Rows [g, g + R) of the task (relative to i0) over the current key block.
template <int R> void rowGroup(const Task &t, int64_t g) {
  const Args &a = t.a;
  if (t.limit(t.i0 + g + R - 1) <= t.j0) // causal: the block is past every row of the group
    return;
  const float *q[R];
  for (int k = 0; k < R; ++k)
    q[k] = t.Q + (t.i0 + g + k) * a.ldq;
  // Scaled scores of the block, one register tile of KBV vectors at a time (or, from K rows,
  // row by row as dot products).
  alignas(64) float p[R * KB];
  if (t.dot)
    for (int k = 0; k < R; ++k)
      scoreRowDot(a.D, q[k], t.kt, t.ldk, t.kb, a.scale, p + k * KB);
  else
    for (int h = 0; h < KT; ++h) {
      const int64_t k0 = h * KBV * V;
      vf s[R][KBV];
      if (t.full)
        scoreTile<R, true>(a.D, q, t.kt + k0, t.ldk, t.kb - k0, s);
      else if (t.kb > k0)
        scoreTile<R, false>(a.D, q, t.kt + k0, t.ldk, t.kb - k0, s);
      else
        continue; // past the keys: every lane is masked below and p is not read
      for (int k = 0; k < R; ++k)
        for (int c = 0; c < KBV; ++c)
          store(p + k * KB + k0 + c * V, s[k][c] * splat(a.scale));
    }
#define SPARQ_UK_LANE(l) l
  const vi laneIndex = {SPARQ_UK_IV(SPARQ_UK_LANE)};
#undef SPARQ_UK_LANE
  // Per row: the block's maximum, the probabilities relative to the new running maximum (into
  // p) and their sum; then the R rescale factors exp(m_old - m_new) as one vector.
  constexpr int NV = KT * KBV;
  alignas(64) float diff[V] = {}, sums[R];
  for (int k = 0; k < R; ++k) {
    const int64_t i = t.i0 + g + k, lim = t.limit(i);
    const float *mrow = t.M ? t.M + i * a.ldm + t.j0 : nullptr;
    const int end = int((lim < t.j0 + KB ? lim : t.j0 + KB) - t.j0); // lanes [0, end) attend
    const vf masked = splat(-__builtin_inff());
    vf x[NV];
    vf vmax = masked;
    for (int c = 0; c < NV; ++c) {
      const vi valid = laneIndex + c * V < end;
      x[c] = c * V < end ? load(p + k * KB + c * V) : masked;
      if (mrow)
        x[c] = x[c] + maskedLoad(mrow + c * V, __builtin_convertvector(valid, vmask));
      x[c] = valid ? x[c] : masked;
      vmax = x[c] > vmax ? x[c] : vmax;
    }
    const float rowMax = hmax(vmax);
    float &m = t.m[g + k];
    const float mNew = rowMax > m ? rowMax : m;
    if (mNew == -__builtin_inff()) { // nothing attended yet: no contribution
      diff[k] = 0.0f;
      sums[k] = 0.0f;
      for (int c = 0; c < NV; ++c)
        store(p + k * KB + c * V, vf{});
      continue;
    }
    diff[k] = m - mNew;
    vf sum = {};
    for (int c = 0; c < NV; ++c) {
      vf e = expNonPositive(x[c] - splat(mNew));
      store(p + k * KB + c * V, e);
      sum = sum + e;
    }
    m = mNew;
    sums[k] = hsum(sum);
  }
  alignas(64) float corr[V];
  store(corr, expNonPositive(load(diff)));
  for (int k = 0; k < R; ++k)
    t.l[g + k] = t.l[g + k] * corr[k] + sums[k];
  float *acc = t.acc + g * t.dp;
  const int64_t dvs = t.dp / V;
  int64_t dv = 0;
  for (; dv + 4 <= dvs; dv += 4)
    outputTile<R, 4>(acc, t.dp, dv, p, corr, t.vb, t.ldv, t.kb);
  switch (dvs - dv) {
  case 3: outputTile<R, 3>(acc, t.dp, dv, p, corr, t.vb, t.ldv, t.kb); break;
  case 2: outputTile<R, 2>(acc, t.dp, dv, p, corr, t.vb, t.ldv, t.kb); break;
  case 1: outputTile<R, 1>(acc, t.dp, dv, p, corr, t.vb, t.ldv, t.kb); break;
  default: break;
  }
}

/// Rows [i0, i0 + QB) of batch b: groups of RG rows, then single rows.
void task(const Args &a, int64_t b, int64_t i0) {
  const int64_t rows = a.S - i0 < QB ? a.S - i0 : QB;
  const int64_t dp = (a.D + V - 1) / V * V;
  alignas(64) float acc[QB * DMAX];
  alignas(64) float vpad[KB * DMAX];
  alignas(64) float own[DMAX * KB]; // the task's copy of a key block
  float m[QB], l[QB];
  for (int64_t i = 0; i < rows * dp; ++i)
    acc[i] = 0.0f;
  for (int64_t i = 0; i < rows; ++i) {
    m[i] = -__builtin_inff();
    l[i] = 0.0f;
  }
  const float *Kt = a.K + b * a.sK, *Vm = a.Vm + b * a.sV;
  Task t{a, i0, dp, a.Q + b * a.sQ, a.M ? a.M + b * a.sM : nullptr, acc, m, l,
         0, 0, nullptr, nullptr, 0, 0, false, false};
  const int64_t kend = t.limit(i0 + rows - 1);
  for (t.j0 = 0; t.j0 < kend; t.j0 += KB) {
    t.kb = kend - t.j0 < KB ? kend - t.j0 : KB;
    // V rows of the block, padded to whole vectors when D is not.
    t.vb = Vm + t.j0 * a.ldv;
    t.ldv = a.ldv;
    if (a.D % V) {
      for (int64_t j = 0; j < t.kb; ++j)
        for (int64_t d = 0; d < dp; ++d)
          vpad[j * dp + d] = d < a.D ? t.vb[j * a.ldv + d] : 0.0f;
      t.vb = vpad;
      t.ldv = dp;
    }
    // With a full register group or more, the block of Kᵀ is read from D contiguous rows of
    // keys (0 past T): the batch's shared copy (run), or the task's own of KB keys. Every group
    // reads it, and Kᵀ's own rows, T floats apart, fall on a few L1 sets. A task of fewer rows
    // (decoding) reads Kᵀ in place, or K's rows (dot products).
    t.kt = Kt + t.j0;
    t.ldk = a.ldk;
    t.full = t.j0 + KB <= a.T;
    if (a.kpack && rows >= RG) {
      // The batch's blocks, packed once for all its tasks (run).
      t.kt = a.kpack + (b * packedBlocks(a) + t.j0 / PK) * a.D * PK + t.j0 % PK;
      t.ldk = PK;
      t.full = true;
    } else if (a.kRows && rows < RG) {
      // Decoding from K rows: each row's scores are dot products over the key rows in place
      // (transposing the block cost 4x the shuffles of summing the products).
      t.kt = Kt + t.j0 * a.ldk;
      t.dot = true;
    } else if (a.kRows || rows >= RG) {
      packBlock<KB>(a, Kt, t.j0, t.kb, own);
      t.kt = own;
      t.ldk = KB;
      t.full = true;
    }
    int64_t g = 0;
    for (; g + RG <= rows; g += RG)
      rowGroup<RG>(t, g);
    for (; g < rows; ++g)
      rowGroup<1>(t, g);
  }
  float *O = a.O + b * a.sO;
  for (int64_t i = 0; i < rows; ++i) {
    const vf inv = splat(1.0f / l[i]);
    float *out = O + (i0 + i) * a.ldo;
    for (int64_t d = 0; d < a.D; d += V) {
      const vf v = load(acc + i * dp + d) * inv;
      if (d + V <= a.D)
        store(out + d, v);
      else
        maskedStore(out + d, v, laneMask(0, int(a.D - d)));
    }
  }
}

Args makeArgs(intptr_t O, int64_t strideO, int64_t ldo, intptr_t Q, int64_t strideQ,
              int64_t ldq, intptr_t Kt, int64_t strideK, int64_t ldk, intptr_t Vm,
              int64_t strideV, int64_t ldv, intptr_t mask, int64_t strideM, int64_t ldm,
              int64_t B, int64_t S, int64_t T, int64_t D, float scale, int64_t causalOffset,
              int64_t flags, intptr_t kpack) {
  return Args{reinterpret_cast<float *>(O),
              strideO,
              ldo,
              reinterpret_cast<const float *>(Q),
              strideQ,
              ldq,
              reinterpret_cast<const float *>(Kt),
              strideK,
              ldk,
              reinterpret_cast<const float *>(Vm),
              strideV,
              ldv,
              reinterpret_cast<const float *>(mask),
              strideM,
              ldm,
              B,
              S,
              T,
              D,
              scale,
              causalOffset,
              (flags & SPARQ_UK_CAUSAL) != 0,
              (flags & SPARQ_UK_K_ROWS) != 0,
              reinterpret_cast<float *>(kpack)};
}

/// Task t of B * ceil(S / QB): the query blocks from the last (the longest under a causal mask)
/// to the first, each over every batch, so the shared counter hands out the long tasks first.
void runTasks(const Args &a, int64_t t0, int64_t t1) {
  const int64_t blocks = (a.S + QB - 1) / QB;
  for (int64_t t = t0; t < t1; ++t)
    task(a, t % a.B, (blocks - 1 - t / a.B) * QB);
}

void run(Args a, bool parallel) {
  if (a.B <= 0 || a.S <= 0 || a.D <= 0 || a.D > DMAX)
    return;
  // The shared copy pays off from two tasks per batch on; with one, each task packs the
  // blocks it reads (and a decoding step, with fewer rows than a register group, packs none).
  if (a.S <= QB)
    a.kpack = nullptr;
  if (a.kpack && a.T > 0) {
    // Every key block of every batch packed once, before the tasks that read them.
    const int64_t units = a.B * packedBlocks(a);
    auto pack = [](void *ctx, int64_t u0, int64_t u1) {
      const Args &a = *static_cast<const Args *>(ctx);
      const int64_t blocks = packedBlocks(a);
      for (int64_t u = u0; u < u1; ++u)
        packKeys(a, u / blocks, u % blocks);
    };
    if (parallel && units > 1)
      sparq_uk_parallel_chunks(pack, const_cast<Args *>(&a), units, 1);
    else
      pack(const_cast<Args *>(&a), 0, units);
  }
  const int64_t tasks = a.B * ((a.S + QB - 1) / QB);
  if (!parallel || tasks == 1)
    return runTasks(a, 0, tasks);
  sparq_uk_parallel_chunks(
      [](void *ctx, int64_t t0, int64_t t1) { runTasks(*static_cast<const Args *>(ctx), t0, t1); },
      const_cast<Args *>(&a), tasks, 1);
}

} // namespace

extern "C" {

void sparq_uk_attention_f32(intptr_t O, int64_t strideO, int64_t ldo, intptr_t Q,
                            int64_t strideQ, int64_t ldq, intptr_t Kt, int64_t strideK,
                            int64_t ldk, intptr_t Vm, int64_t strideV, int64_t ldv,
                            intptr_t mask, int64_t strideM, int64_t ldm, int64_t B, int64_t S,
                            int64_t T, int64_t D, float scale, int64_t causalOffset,
                            int64_t flags, intptr_t kpack) {
  run(makeArgs(O, strideO, ldo, Q, strideQ, ldq, Kt, strideK, ldk, Vm, strideV, ldv, mask,
               strideM, ldm, B, S, T, D, scale, causalOffset, flags, kpack),
      false);
}

void sparq_uk_attention_f32_mt(intptr_t O, int64_t strideO, int64_t ldo, intptr_t Q,
                               int64_t strideQ, int64_t ldq, intptr_t Kt, int64_t strideK,
                               int64_t ldk, intptr_t Vm, int64_t strideV, int64_t ldv,
                               intptr_t mask, int64_t strideM, int64_t ldm, int64_t B, int64_t S,
                               int64_t T, int64_t D, float scale, int64_t causalOffset,
                               int64_t flags, intptr_t kpack) {
  run(makeArgs(O, strideO, ldo, Q, strideQ, ldq, Kt, strideK, ldk, Vm, strideV, ldv, mask,
               strideM, ldm, B, S, T, D, scale, causalOffset, flags, kpack),
      true);
}

} // extern "C"
