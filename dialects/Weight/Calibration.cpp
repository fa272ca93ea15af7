//===- dialects/Weight/Calibration.cpp - calibration statistics ------------===//
#include "dialects/Weight/Calibration.h"

#include <algorithm>
#include <cmath>
#include <thread>

// LAPACK (Fortran ABI; OpenBLAS): Cholesky factorization and inverse of a symmetric positive
// definite matrix.
extern "C" {
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void openblas_set_num_threads(int threads);
}

namespace sparq::weight {

const char *methodName(Method m) {
  switch (m) {
  case Method::RTN:
    return "rtn";
  case Method::GPTQ:
    return "gptq";
  case Method::Wanda:
    return "wanda";
  case Method::SparseGPT:
    return "sparsegpt";
  case Method::AWQ:
    return "awq";
  }
  return "?";
}

std::optional<Method> parseMethod(const std::string &name) {
  for (Method m : {Method::RTN, Method::GPTQ, Method::Wanda, Method::SparseGPT, Method::AWQ})
    if (name == methodName(m))
      return m;
  return std::nullopt;
}

namespace {
/// Runs fn(worker, workers) on up to hardware_concurrency threads (1 when work is small).
template <typename F>
void onWorkers(double work, F fn) {
  unsigned workers = work < 1e7 ? 1u : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  if (workers == 1) {
    fn(0u, 1u);
    return;
  }
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w)
    threads.emplace_back(fn, w, workers);
  fn(0u, workers);
  for (std::thread &t : threads)
    t.join();
}
} // namespace

void InputStatistics::accumulate(const float *x, int64_t n) {
  // Blocks of vectors share one pass over each row of the (upper) accumulator, which for large
  // k does not fit in cache.
  // Workers own interleaved bands of rows of the accumulator (the upper triangle shrinks).
  // A block's products are summed in double (`sum`), then added to the float accumulator.
  constexpr int64_t kBlock = 16, kBand = 8;
  onWorkers((double)n * k * k / 2, [&](unsigned w, unsigned workers) {
    std::vector<double> sum((size_t)k);
    for (int64_t v0 = 0; v0 < n; v0 += kBlock) {
      int64_t nb = std::min(kBlock, n - v0);
      const float *xb = x + v0 * k;
      for (int64_t i = 0; i < k; ++i) {
        if ((i / kBand) % workers != w)
          continue;
        bool any = false;
        for (int64_t t = 0; t < nb; ++t) {
          double xi = xb[t * k + i];
          if (xi == 0.0)
            continue;
          const float *xt = xb + t * k;
          if (!any)
            for (int64_t j = i; j < k; ++j)
              sum[j] = xi * (double)xt[j];
          else
            for (int64_t j = i; j < k; ++j)
              sum[j] += xi * (double)xt[j];
          any = true;
        }
        if (!any)
          continue;
        float *row = upperRow(i);
        for (int64_t j = i; j < k; ++j)
          row[j] = (float)((double)row[j] + sum[j]);
      }
    }
  });
  vectors += n;
}

std::vector<double> InputStatistics::symmetricMean() const {
  std::vector<double> h((size_t)(k * k), 0.0);
  double inv = vectors ? 1.0 / (double)vectors : 0.0;
  for (int64_t i = 0; i < k; ++i) {
    const float *row = upperRow(i);
    for (int64_t j = i; j < k; ++j)
      h[i * k + j] = h[j * k + i] = (double)row[j] * inv;
  }
  return h;
}

InputStatistics InputStatistics::permuted(const std::vector<int64_t> &perm) const {
  InputStatistics out(k);
  out.vectors = vectors;
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = a; b < k; ++b) {
      int64_t i = std::min(perm[a], perm[b]), j = std::max(perm[a], perm[b]);
      out.upperRow(a)[b] = upperRow(i)[j];
    }
  return out;
}

const std::vector<double> &InputStatistics::inverseFactor(double damp, std::string &error) const {
  for (auto &[d, f] : factors)
    if (d == damp)
      return f;
  if (factors.size() >= 3)
    factors.pop_front();
  factors.emplace_back(damp, std::vector<double>());
  std::vector<double> &factor = factors.back().second;
  std::vector<double> h = symmetricMean();
  double meanDiag = 0;
  for (int64_t i = 0; i < k; ++i) {
    if (h[i * k + i] <= 0)
      h[i * k + i] = 1.0;
    meanDiag += h[i * k + i];
  }
  meanDiag /= (double)std::max<int64_t>(k, 1);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] += damp * meanDiag;
  // LAPACK on the symmetric H, whose row-major array is its own column-major array: the
  // Cholesky factor H = L Lᵀ (dpotrf), H⁻¹ from it (dpotri), and the Cholesky factor of H⁻¹
  // with uplo 'L' in column-major, which read row-major is the upper U with UᵀU = H⁻¹.
  // One OpenBLAS thread: on a shared or loaded machine its spinning workers lose badly (K =
  // 1024 on 2 busy cores: 3.2 s with two threads, 0.07 s with one).
  static const bool singleThreaded = (openblas_set_num_threads(1), true);
  (void)singleThreaded;
  int n = (int)k, info = 0;
  const char lower = 'L';
  dpotrf_(&lower, &n, h.data(), &n, &info);
  if (info == 0)
    dpotri_(&lower, &n, h.data(), &n, &info);
  if (info == 0) {
    // dpotri filled the lower triangle (column-major) = the upper triangle row-major; mirror.
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = i + 1; j < k; ++j)
        h[j * k + i] = h[i * k + j];
    dpotrf_(&lower, &n, h.data(), &n, &info);
  }
  if (info != 0) {
    error = "the damped input second-moment matrix is not positive definite" +
            (info > 0 ? " (channel " + std::to_string(info - 1) + ")" : std::string()) +
            "; raise the damping";
    factors.pop_back();
    static const std::vector<double> none;
    return none;
  }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < i; ++j)
      h[i * k + j] = 0.0; // the other triangle held LAPACK's workspace
  factor = std::move(h);
  return factor;
}

double InputStatistics::relativeOutputError(const std::vector<float> &w,
                                            const std::vector<float> &q, int64_t rows) const {
  // dHdᵀ = Σᵢ dᵢ (Hᵢᵢ dᵢ + 2 Σ_{j>i} Hᵢⱼ dⱼ) straight from the packed upper triangle: half the
  // multiply-adds of the full product and no k² copy. Rows in blocks of 8 share each pass over
  // H; workers take interleaved blocks.
  constexpr int64_t kRows = 8;
  int64_t blocks = (rows + kRows - 1) / kRows;
  std::vector<double> nums(8, 0.0), dens(8, 0.0);
  onWorkers(2.0 * rows * k * k, [&](unsigned wk, unsigned workers) {
    std::vector<double> d(kRows * k), wv(kRows * k);
    double num = 0, den = 0;
    for (int64_t b = wk; b < blocks; b += workers) {
      int64_t r0 = b * kRows, nr = std::min(kRows, rows - r0);
      for (int64_t t = 0; t < nr; ++t)
        for (int64_t i = 0; i < k; ++i) {
          d[t * k + i] = (double)w[(r0 + t) * k + i] - (double)q[(r0 + t) * k + i];
          wv[t * k + i] = w[(r0 + t) * k + i];
        }
      for (int64_t i = 0; i < k; ++i) {
        const float *hi = upperRow(i);
        for (int64_t t = 0; t < nr; ++t) {
          const double *dt = &d[t * k], *wt = &wv[t * k];
          double sd = 0, sw = 0;
          {
#pragma clang fp reassociate(on)
            for (int64_t j = i + 1; j < k; ++j) {
              sd += hi[j] * dt[j];
              sw += hi[j] * wt[j];
            }
          }
          num += dt[i] * (hi[i] * dt[i] + 2 * sd);
          den += wt[i] * (hi[i] * wt[i] + 2 * sw);
        }
      }
    }
    nums[wk] = num;
    dens[wk] = den;
  });
  double num = 0, den = 0;
  for (int i = 0; i < 8; ++i) {
    num += nums[i];
    den += dens[i];
  }
  // Both sums share the 1/count of H, which cancels in the ratio.
  if (den <= 0)
    return num <= 0 ? 0.0 : INFINITY;
  return std::sqrt(std::max(num, 0.0) / den);
}

CompensatedSweep::CompensatedSweep(const std::vector<float> &w, int64_t rows, int64_t k,
                                   const std::vector<double> &u,
                                   const std::vector<int64_t> *positions, int64_t denseK)
    : rows(rows), k(k), dk(positions ? denseK : k), u(u), positions(positions),
      cur((size_t)(rows * dk), 0.0), elementAt((size_t)(rows * dk), -1),
      err((size_t)(rows * kBlock), 0.0) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < k; ++i) {
      int64_t p = column(r, i);
      if (p < 0)
        continue;
      cur[r * dk + p] = w[r * k + i];
      elementAt[r * dk + p] = (int32_t)i;
    }
}

double CompensatedSweep::current(int64_t r, int64_t i) const {
  int64_t p = column(r, i);
  if (p < 0)
    return 0.0;
  double v = cur[r * dk + p];
  if (p >= blockEnd) // updates of this block's visited columns not applied yet
    for (int64_t j = blockStart; j < visiting; ++j)
      v -= err[r * kBlock + (j - blockStart)] * u[j * dk + p];
  return v;
}

void CompensatedSweep::run(const std::function<double(int64_t, int64_t, double)> &choose) {
  for (blockStart = 0; blockStart < dk; blockStart = blockEnd) {
    blockEnd = std::min(dk, blockStart + kBlock);
    for (int64_t j = blockStart; j < blockEnd; ++j) {
      const double *uj = &u[j * dk];
      double d = uj[j];
      for (int64_t r = 0; r < rows; ++r) {
        visiting = j; // row r's errors of columns [blockStart, j) are in err
        int64_t i = elementAt[r * dk + j];
        double x = cur[r * dk + j];
        double chosen = i >= 0 ? choose(r, i, x) : 0.0;
        double e = (x - chosen) / d;
        err[r * kBlock + (j - blockStart)] = e;
        if (e == 0.0)
          continue;
        double *row = &cur[r * dk];
        for (int64_t l = j + 1; l < blockEnd; ++l)
          row[l] -= e * uj[l];
      }
    }
    visiting = blockEnd;
    if (blockEnd == dk)
      break;
    for (int64_t r = 0; r < rows; ++r) {
      double *row = &cur[r * dk];
      for (int64_t j = blockStart; j < blockEnd; ++j) {
        double e = err[r * kBlock + (j - blockStart)];
        if (e == 0.0)
          continue;
        const double *uj = &u[j * dk];
        for (int64_t l = blockEnd; l < dk; ++l)
          row[l] -= e * uj[l];
      }
    }
  }
}

} // namespace sparq::weight
