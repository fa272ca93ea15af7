//===- dialects/Weight/Calibration.h - calibration statistics -*- C++ -*-===//
//
// What the data-aware compression methods know about a layer's input, on plain host arrays (no
// MLIR): the second moments H = XᵀX/n of the activation vectors along the reduction dimension
// of the layer's canonical `[rows, K]` weight (for a convolution, of its im2col patches), the
// damped inverse factor GPTQ and SparseGPT sweep with, and the layer output error a compressed
// weight causes on the calibration data. docs/calibration.md describes the methods.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_WEIGHT_CALIBRATION_H
#define SPARQ_DIALECTS_WEIGHT_CALIBRATION_H

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sparq::weight {

/// How the host compressors choose packed values.
enum class Method {
  RTN,       ///< data-free: round to nearest, magnitude N:M pruning
  GPTQ,      ///< quantization with second-order error compensation (Frantar et al., 2022)
  Wanda,     ///< N:M pruning scored by |w|·‖x‖ (Sun et al., 2023), no compensation
  SparseGPT, ///< N:M pruning with compensation (Frantar & Alistarh, 2023), then GPTQ
  AWQ,       ///< activation-aware input-channel scaling before quantization (Lin et al., 2023)
};

/// "rtn", "gptq", "wanda", "sparsegpt", "awq".
const char *methodName(Method m);
/// The method `name` spells (case-sensitive, as methodName writes it), or none.
std::optional<Method> parseMethod(const std::string &name);
/// True for the methods that need calibration statistics.
inline bool needsCalibration(Method m) { return m != Method::RTN; }
/// True for the methods that spread errors with the inverse Hessian (GPTQ, SparseGPT).
inline bool compensates(Method m) { return m == Method::GPTQ || m == Method::SparseGPT; }

/// Second moments of one layer's input vectors (length k).
class InputStatistics {
public:
  explicit InputStatistics(int64_t k) : k(k), xtx((size_t)(k * (k + 1) / 2), 0.0f) {}

  int64_t size() const { return k; }
  /// Number of input vectors accumulated.
  int64_t count() const { return vectors; }
  /// Adds `n` row-major input vectors of length k.
  void accumulate(const float *x, int64_t n);
  /// H[i, j] = Σ x_i x_j / count (0 when nothing was accumulated).
  double hessian(int64_t i, int64_t j) const {
    if (i > j)
      std::swap(i, j);
    return vectors ? upperRow(i)[j] / (double)vectors : 0.0;
  }
  /// Mean square of input channel i (Wanda's ‖x_i‖² per vector).
  double meanSquare(int64_t i) const { return hessian(i, i); }
  /// The statistics of the inputs with their channels permuted: result channel a is channel
  /// perm[a] here.
  InputStatistics permuted(const std::vector<int64_t> &perm) const;

  /// The upper-triangular U with UᵀU = (H + λI)⁻¹, λ = damp · mean(diag H); channels that
  /// never saw a non-zero input get H[i, i] = 1 first (their weights are irrelevant). Computed
  /// once per damping and cached (the last three). Empty with `error` set when H + λI is not
  /// positive definite.
  const std::vector<double> &inverseFactor(double damp, std::string &error) const;
  /// Frees the cached factors (k² doubles each); the compression pass calls it when a layer is
  /// done, so only the statistics themselves stay for the layers still to come.
  void releaseFactors() const { factors.clear(); }

  /// Output error of replacing `w` by `q` (both `[rows, k]` row-major) on the calibration
  /// inputs: sqrt(tr((w − q) H (w − q)ᵀ) / tr(w H wᵀ)), i.e. ‖(w − q) X‖ / ‖w X‖ over the
  /// calibration vectors (0 when the output is zero and unchanged).
  double relativeOutputError(const std::vector<float> &w, const std::vector<float> &q,
                             int64_t rows) const;

private:
  /// The full symmetric H (mean, mirrored from the accumulated upper triangle).
  std::vector<double> symmetricMean() const;

  int64_t k;
  int64_t vectors = 0;
  /// Σ x xᵀ, the upper triangle packed row by row (k(k+1)/2 floats: half the memory of
  /// doubles, which calibration of a large model holds for every layer at once; each
  /// accumulate() sums a block of up to 16 vectors in double and rounds once, so a sum over N
  /// vectors carries N/16 float roundings, relative error ~6e-8·sqrt(N/16)).
  std::vector<float> xtx;
  /// Row i of the upper triangle, indexed by the column j >= i.
  float *upperRow(int64_t i) { return xtx.data() + i * k - i * (i - 1) / 2 - i; }
  const float *upperRow(int64_t i) const {
    return xtx.data() + i * k - i * (i - 1) / 2 - i;
  }
  /// Factors computed so far, by damping (the damping search asks for a few).
  mutable std::list<std::pair<double, std::vector<double>>> factors;
};

/// The column sweep GPTQ, SparseGPT and the compensated shift-add fit share (Frantar et al.,
/// 2022): the dense columns are visited in order; in each, every row's value is replaced by what
/// the method chooses, and the difference, divided by U[j, j], is spread over the row's columns
/// not yet visited with U's row j (UᵀU = (H + λI)⁻¹, InputStatistics::inverseFactor), which
/// keeps the layer output on the calibration inputs as close as possible. Updates inside a block
/// of 64 columns are applied column by column, to later columns once per block (the same result,
/// fewer passes over the weight); current() adds pending updates, so it is always exact.
class CompensatedSweep {
public:
  /// `w` is `[rows, k]` row-major. After an N:M transform `w` holds each row's kept values and
  /// `positions` ([rows, k]) their dense columns out of `denseK` (negative: padding past the
  /// dense K, which stays zero and is not visited); dense columns holding no value of a row are
  /// pruned there (target zero, error compensated too).
  CompensatedSweep(const std::vector<float> &w, int64_t rows, int64_t k,
                   const std::vector<double> &u, const std::vector<int64_t> *positions = nullptr,
                   int64_t denseK = 0);

  /// The dense column of element i of row r (negative for padding).
  int64_t column(int64_t r, int64_t i) const {
    return positions ? (*positions)[r * k + i] : i;
  }
  /// Element i of row r with the errors of every column visited so far compensated (0 for
  /// padding).
  double current(int64_t r, int64_t i) const;

  /// Runs the sweep: `choose(r, i, x)` returns the value element i of row r (current value x)
  /// becomes. It may read current() of the row's later elements (to fit a group's parameters).
  void run(const std::function<double(int64_t r, int64_t i, double x)> &choose);

private:
  static constexpr int64_t kBlock = 64;
  int64_t rows, k, dk;
  const std::vector<double> &u;
  const std::vector<int64_t> *positions;
  std::vector<double> cur;           ///< [rows, dk] dense weights, updates applied so far
  std::vector<int32_t> elementAt;    ///< [rows, dk] dense column -> element, or -1
  std::vector<double> err;           ///< [rows, kBlock] scaled errors of the current block
  int64_t blockStart = 0, blockEnd = 0, visiting = 0;
};

/// Calibration statistics of a whole model: per compressible layer, in the order the compression
/// pass meets the layers (layers that share an input share their statistics).
struct CalibrationData {
  struct Layer {
    std::string name;
    std::shared_ptr<InputStatistics> stats;
  };
  std::vector<Layer> layers;
  int64_t samples = 0;
};

} // namespace sparq::weight

#endif // SPARQ_DIALECTS_WEIGHT_CALIBRATION_H
