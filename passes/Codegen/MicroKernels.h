//===- passes/Codegen/MicroKernels.h - contractions the CPU kernels run -*- C++ -*-===//
//
// The one description, shared by sparq-cpu-select-ukernels, sparq-linalg-distribute and
// sparq-cpu-lower-ukernels, of a contraction that sparq_uk_sgemm_packed_f32 computes; and the
// one way the passes that call runtime kernels declare them.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_PASSES_CODEGEN_MICROKERNELS_H
#define SPARQ_PASSES_CODEGEN_MICROKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <optional>

namespace sparq {

/// Attribute that marks an op for the micro-kernels; its value names the kernel.
inline constexpr llvm::StringLiteral kMicroKernelAttr = "sparq.ukernel";
/// Its values: a contraction with a constant right-hand side (PackedGemm) and an NCHW
/// `linalg.conv_2d_nchw_fchw` with a constant filter.
inline constexpr llvm::StringLiteral kGemmKernel = "sgemm_f32";
inline constexpr llvm::StringLiteral kConvKernel = "conv2d_nchw_f32";
/// Unit attribute: the kernel stores max(result, 0) (a ReLU folded into the op).
inline constexpr llvm::StringLiteral kMicroKernelReluAttr = "sparq.ukernel.relu";
/// Elements attribute: the convolution kernel starts from this per-channel bias; the op's init
/// operand is ignored (set by sparq-cpu-select-ukernels).
inline constexpr llvm::StringLiteral kMicroKernelBiasAttr = "sparq.ukernel.bias";
/// A contraction (PackedGemm, batch loops allowed) whose right-hand side is not a constant.
inline constexpr llvm::StringLiteral kGemmRuntimeKernel = "sgemm_rt_f32";
/// A `linalg.transpose` of the last two dims (f32): sparq_uk_transpose_f32.
inline constexpr llvm::StringLiteral kTransposeKernel = "transpose_f32";
/// An NCHW `linalg.depthwise_conv_2d_nchw_chw` (any filter).
inline constexpr llvm::StringLiteral kDepthwiseKernel = "dwconv2d_nchw_f32";
/// A sum of an f32 buffer over its trailing dims (rowSumsSplit): sparq_uk_row_sums_f32.
inline constexpr llvm::StringLiteral kRowSumsKernel = "row_sums_f32";

/// Loops and operands of C[b..., m..., n...] += A[b..., m..., k...] * B[b..., k..., n...] (or
/// B[b..., n..., k...]): each group of loops is indexed in the same order wherever it appears, so
/// on row-major buffers it collapses to one dimension (batch, M, N, K of the kernels).
struct PackedGemm {
  unsigned lhs = 0, rhs = 1;          ///< input operand numbers of A and B
  llvm::SmallVector<unsigned> batchLoops; ///< outer to inner; may be empty
  llvm::SmallVector<unsigned> mLoops; ///< outer to inner; may be empty (GEMV)
  llvm::SmallVector<unsigned> nLoops; ///< outer to inner; not empty
  llvm::SmallVector<unsigned> kLoops; ///< outer to inner; not empty
  bool rhsTransposed = false;         ///< B is indexed (n..., k...)
};

/// Matches a linalg op (on tensors or buffers) of that form with f32 operands; std::nullopt
/// otherwise. Does not look at where B comes from.
std::optional<PackedGemm> matchPackedGemm(mlir::linalg::LinalgOp op);

/// The private declaration of the external (runtime kernel) function `name` of `type` in
/// `module`, created at the top of the module unless a symbol of that name exists (looked up,
/// and recorded, in `symbols` when the caller keeps a symbol table of the module); null when
/// that symbol is not a function.
mlir::func::FuncOp declareKernelFunction(mlir::ModuleOp module, llvm::StringRef name,
                                         mlir::FunctionType type,
                                         mlir::SymbolTable *symbols = nullptr);
/// The same for the sparq_uk_* kernels' calling form: `numArgs` index arguments, no results.
mlir::func::FuncOp declareIndexKernel(mlir::ModuleOp module, llvm::StringRef name,
                                      unsigned numArgs, mlir::SymbolTable *symbols = nullptr);

/// The address (index) of the first element of `memref` (a buffer with a static element type),
/// from its strided metadata `meta` (created here when not given).
mlir::Value elementAddress(mlir::OpBuilder &b, mlir::Location loc, mlir::Value memref,
                           mlir::memref::ExtractStridedMetadataOp meta = {});

/// The number p of leading (kept) dims when `op` sums its one f32 input over the trailing dims
/// [p, n) into its init (out[i0..ip) += in[i0..in)): iterators p parallel then reduction, the
/// input indexed by the identity, the init by the first p dims, a body that only adds the
/// element to the accumulator. std::nullopt otherwise.
std::optional<unsigned> rowSumsSplit(mlir::linalg::LinalgOp op);

/// Whether `perm` swaps the last two dims and keeps the others (a batch of matrix transposes).
bool swapsLastTwoDims(llvm::ArrayRef<int64_t> perm);

/// The dims where `perm` swaps two trailing groups of dims and keeps the others: (p, q) when
/// perm is [0, p) followed by [q, n) followed by [p, q), with p < q < n (rows [p, q) and columns
/// [q, n) of a batch of matrix transposes once each group is collapsed). NCHW -> NHWC is (1, 2),
/// NHWC -> NCHW (1, 3), a swap of the last two dims (n - 2, n - 1).
std::optional<std::pair<unsigned, unsigned>> swappedTrailingGroups(llvm::ArrayRef<int64_t> perm);

/// The address of the ranked tensor `v` as a read-only buffer of its shape with the identity
/// layout (bufferization.to_buffer; bufferization places or copies the buffer): how a pass that
/// calls a kernel on tensors passes an operand.
mlir::Value readAddress(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);

/// `x` with each element converted by `convert` to `to` (an elementwise linalg.generic; the
/// result keeps the dynamic sizes of `x`).
mlir::Value convertElements(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Type to,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::Value)> convert);

/// y[..., M, N] = product(x[M, K]) for a product over the last dim of `x` [..., M, K] (M the
/// product of its leading dims, dynamic when one of them is): `x` collapsed to [M, K], handed
/// to `product`, which returns the f32 [M, N] result, expanded back to the leading dims of `x`
/// (read at run time where dynamic). How a pass replaces a linear layer by a kernel call.
mlir::Value productOverRows(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, int64_t n,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::Value)> product);

} // namespace sparq

#endif // SPARQ_PASSES_CODEGEN_MICROKERNELS_H
