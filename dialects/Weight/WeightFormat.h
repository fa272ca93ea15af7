//===- dialects/Weight/WeightFormat.h - composable weight formats ---*- C++ -*-===//
//
// The scheme-independent machinery of compressed weights: the host-side types a weight format's
// compressor returns, the WeightFormatAttrInterface every scheme attribute implements, the
// dialect interface through which a scheme dialect parses its `--scheme` tokens and contributes
// the reference lowering of its own ops, and the functions that work on an ordered format list
// (verify, spell, compress on the host, decode in IR). docs/architecture.md and
// docs/adding-a-scheme.md describe how a scheme plugs in.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_WEIGHT_WEIGHTFORMAT_H
#define SPARQ_DIALECTS_WEIGHT_WEIGHTFORMAT_H

#include "dialects/Weight/Calibration.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/Error.h"

#include <cstring>
#include <string>
#include <vector>

namespace sparq::weight {

/// Options of the host compressors that are not part of a format (they change how the packed
/// values are chosen, not what they mean).
struct CompressOptions {
  bool searchClip = false; ///< search each group's error-minimizing clipping range
  /// How values are chosen. The data-aware methods read `stats`; a format that has no use for
  /// the method (or for statistics of another length than its K) compresses data-free and
  /// says so by leaving HostPart::method empty.
  Method method = Method::RTN;
  const InputStatistics *stats = nullptr; ///< the layer's input statistics (length = dense K)
  double damp = 0.01;                     ///< GPTQ/SparseGPT damping, fraction of mean(diag H)
  /// Set by compressHost for a format after transforms: the dense column (of `denseK`) of each
  /// value it is handed ([rows, K'] row-major), so a data-aware method can work on the dense
  /// problem the statistics describe.
  const std::vector<int64_t> *positions = nullptr;
  int64_t denseK = 0;

  /// The statistics when they describe the problem of a format given K values per row: of K
  /// itself, or after a transform (positions set) of the dense K. Null otherwise.
  const InputStatistics *statsFor(int64_t k) const {
    return stats && stats->size() == (positions ? denseK : k) ? stats : nullptr;
  }
  /// The factor U (UᵀU = (H + λI)⁻¹, λ from `damp`) a compensating sweep over the problem of a
  /// format given K values per row needs: null when the method does not compensate or no
  /// statistics describe the problem (the format then compresses data-free); an error starting
  /// with `what` when H + λI is not positive definite.
  llvm::Expected<const std::vector<double> *> compensationFactor(int64_t k,
                                                                 llvm::StringRef what) const;
};

/// What one format's host compressor produces.
struct HostPart {
  /// Raw little-endian contents of each packed operand, in the order and with the element types
  /// of getPackedOperands.
  std::vector<std::vector<char>> packed;
  /// Encoding: the dequantized `[rows, K]` weight. Transform: the `[rows, K']` values handed on.
  std::vector<float> values;
  /// The data-aware method the format used ("" when it compressed data-free).
  std::string method;
  /// Transforms: the column (of the K the format was given) of each value handed on,
  /// `[rows, K']` row-major.
  std::vector<int64_t> positions;
};

/// The bytes of a host array, for HostPart::packed.
template <typename T>
std::vector<char> toBytes(const std::vector<T> &v) {
  std::vector<char> out(v.size() * sizeof(T));
  if (!v.empty())
    std::memcpy(out.data(), v.data(), out.size());
  return out;
}

/// A host array back from HostPart::packed bytes.
template <typename T>
std::vector<T> fromBytes(const std::vector<char> &bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty())
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

} // namespace sparq::weight

#include "dialects/Weight/WeightFormatInterface.h.inc"

namespace sparq::weight {

/// Implemented by every dialect that defines weight formats: parses its tokens of a `--scheme`
/// list and supplies the reference lowering of its own ops (those its formats' buildDecode
/// creates). Dialects are found through this interface, so the compression pass, the reference
/// lowering and the driver need no list of schemes.
class WeightSchemeDialectInterface
    : public mlir::DialectInterface::Base<WeightSchemeDialectInterface> {
public:
  WeightSchemeDialectInterface(mlir::Dialect *dialect) : Base(dialect) {}

  /// The format `token` spells (e.g. "2:4", "w4g128", "mxfp4"; case-insensitive), a null
  /// attribute if the token is not one of this dialect's, or a null attribute and `error` set if
  /// it is this dialect's but malformed.
  virtual mlir::Attribute parseSchemeToken(llvm::StringRef token, std::string &error) const = 0;

  /// One line per token form, `spelling: meaning`, for --help and docs.
  virtual void describeSchemeTokens(llvm::raw_ostream &os) const = 0;

  /// Patterns lowering this dialect's ops to linalg/tensor/arith/math on tensors.
  virtual void populateReferenceLoweringPatterns(mlir::RewritePatternSet &patterns) const {}
};

/// Loads every registered dialect named `sparq_*`, so that the scheme dialects' interfaces are
/// available (scheme dialects follow that naming convention).
void loadSchemeDialects(mlir::MLIRContext *ctx);

/// Parses a comma-separated `--scheme` list into an ordered format list. Each token is offered
/// to every loaded scheme dialect; unknown or malformed tokens and ill-formed lists fail with a
/// message in `error`.
mlir::ArrayAttr parseSchemeList(mlir::MLIRContext *ctx, llvm::StringRef list, std::string &error);

/// Every scheme token form of the loaded scheme dialects, one per line.
std::string describeSchemeTokens(mlir::MLIRContext *ctx);

/// Checks that `formats` is a non-empty list of weight formats in which only the last one may
/// be an encoding.
mlir::LogicalResult verifyFormatList(mlir::ArrayAttr formats,
                                     llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

/// The formats of a verified list.
llvm::SmallVector<WeightFormatAttrInterface> getFormats(mlir::ArrayAttr formats);

/// Types and names of the packed operands of the list for a `[rows, k]` weight of `floatType`
/// (each format's, in order, then the trailing values when the list ends with a transform).
void getPackedOperands(mlir::ArrayAttr formats, int64_t rows, int64_t k, mlir::Type floatType,
                       llvm::SmallVectorImpl<mlir::Type> &types,
                       llvm::SmallVectorImpl<std::string> &names);

/// Verifies that `packed` has exactly the types the list needs for a `[rows, k]` weight.
mlir::LogicalResult verifyPackedOperands(mlir::Operation *op, mlir::ArrayAttr formats,
                                         int64_t rows, int64_t k, mlir::Type floatType,
                                         mlir::TypeRange packed);

/// Bytes the packed operands of the list occupy.
int64_t packedBytes(mlir::ArrayAttr formats, int64_t rows, int64_t k, mlir::Type floatType);

/// "2:4+W4g128": the formats' spellings joined by '+'.
std::string spellFormats(mlir::ArrayAttr formats);

/// The formats' kernel keys joined by '+'.
std::string kernelKey(mlir::ArrayAttr formats);

/// A list compressed on the host: the contents of each packed operand (as getPackedOperands
/// orders them) and the dequantized `[rows, k]` weight.
struct HostCompressed {
  std::vector<std::vector<char>> packed;
  std::vector<float> dequantized;
  /// Per format, the data-aware method it used ("" for data-free).
  std::vector<std::string> methods;
};

/// Runs each format's compressor in list order and reconstructs the dequantized weight.
llvm::Expected<HostCompressed> compressHost(mlir::ArrayAttr formats, llvm::ArrayRef<float> w,
                                            int64_t rows, int64_t k,
                                            const CompressOptions &options);

/// The reference decode of the list: the dense `[rows, k]` tensor of `floatType`.
mlir::Value buildDecode(mlir::OpBuilder &b, mlir::Location loc, mlir::ArrayAttr formats,
                        mlir::ValueRange packed, int64_t rows, int64_t k, mlir::Type floatType);

} // namespace sparq::weight

#endif // SPARQ_DIALECTS_WEIGHT_WEIGHTFORMAT_H
