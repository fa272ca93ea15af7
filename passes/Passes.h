//===- passes/Passes.h - sparq passes and pipelines ----------------*- C++ -*-===//
#ifndef SPARQ_PASSES_PASSES_H
#define SPARQ_PASSES_PASSES_H

#include "sparq/Codegen/FusionRecord.h"
#include "sparq/Compression/Options.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Transforms/DialectConversion.h"

#include <functional>
#include <memory>
#include <string>

namespace sparq {

#define GEN_PASS_DECL
#include "passes/ConversionPasses.h.inc"
#define GEN_PASS_DECL
#include "passes/Compression/Passes.h.inc"
#define GEN_PASS_DECL
#include "passes/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/ConversionPasses.h.inc"
#define GEN_PASS_REGISTRATION
#include "passes/Compression/Passes.h.inc"
#define GEN_PASS_REGISTRATION
#include "passes/Codegen/Passes.h.inc"

/// The ONNX node an op at `loc` came from (the importer names every op of a node after it, as a
/// NameLoc, possibly inside fused or call-site locations after rewrites); empty if none.
std::string onnxNodeName(mlir::Location loc);
/// " (node 'NAME')" for the ONNX node `op` came from, or nothing: the tail of a diagnostic.
std::string onnxNodeSuffix(mlir::Operation *op);

/// The fatbin of the CUDA tensor-core kernels (runtime/kernels/cuda/MmaGemm.cu) built with this
/// compiler, which CUDA artifacts calling them embed; empty when the build had no nvcc.
llvm::StringRef cudaMmaImage();
/// A constant global only host code reads (the fatbin above): not made device-resident.
constexpr llvm::StringLiteral kGpuHostOnlyAttr = "sparq.gpu.host_only";

/// The patterns of sparq-convert-onnx-to-linalg: every sparq_onnx.node to the handler of its
/// op_type and opset (passes/ONNXToLinalg), and constants of signed/unsigned integer types to
/// signless ones. `typeConverter` must map ONNX's signed/unsigned integer types to signless
/// ones, as the pass's does; the pass adds the conversion target and function signatures.
void populateONNXToLinalgPatterns(const mlir::TypeConverter &typeConverter,
                                  mlir::RewritePatternSet &patterns);

/// Whether sparq-convert-onnx-to-linalg has a handler for `opType` of `domain` at `opset` (the
/// default domain, or com.microsoft for MatMulNBits). The importer expands other operators into
/// their ONNX function bodies where the schema defines one.
bool isONNXOpConverted(llvm::StringRef opType, llvm::StringRef domain, int64_t opset);

/// The patterns of sparq-convert-compressed-to-linalg: the generic compressed-weight consumers
/// (decode of their format list, dense contraction) and the reference lowering of the ops of
/// every loaded scheme dialect (WeightSchemeDialectInterface).
void populateCompressedToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// Folds elementwise linalg.generic ops whose inputs are all constants (and whose results have
/// at most `maxElements` elements) into constants (passes/Codegen/FoldConstantElementwise.cpp).
void populateFoldConstantElementwisePatterns(mlir::RewritePatternSet &patterns,
                                             int64_t maxElements);

/// Receives, for each weight the compression pass replaced, the initializer name and the
/// dequantized weight in the initializer's ONNX layout (for --export-dequantized).
using DequantizedWeightSink =
    std::function<void(llvm::StringRef initializer, llvm::ArrayRef<float> values)>;

/// Called before each layer is compressed: (layers done, total layers, layer name).
using CompressionProgress = std::function<void(size_t, size_t, llvm::StringRef)>;

/// Receives the report record of each compressed layer.
using LayerReportSink = std::function<void(const LayerReport &)>;

/// sparq-compress-weights with `options` (instead of its textual pass options), a sink for the
/// dequantized weights, a progress callback and a report sink.
std::unique_ptr<mlir::Pass> createCompressWeightsPass(const CompressionOptions &options,
                                                      DequantizedWeightSink sink = {},
                                                      CompressionProgress progress = {},
                                                      LayerReportSink report = {});

using FusionRecordSink = std::function<void(const FusionRecord &)>;

/// sparq-block-fusion with `options`, telling `sink` about every convolution chain it fused or
/// left alone.
std::unique_ptr<mlir::Pass> createBlockFusionPass(const BlockFusionPassOptions &options,
                                                  FusionRecordSink sink);

/// sparq-cpu-fuse-attention with `options`, telling `sink` about every attention block it fused
/// or left alone.
std::unique_ptr<mlir::Pass> createFuseAttentionPass(const FuseAttentionPassOptions &options,
                                                    FusionRecordSink sink);

/// One compressible layer whose input `instrumentForCalibration` made an entry result.
struct CalibrationProbe {
  std::string name;    ///< the layer's name, as sparq-compress-weights and its report call it
  static constexpr unsigned kNoResult = ~0u;
  /// Entry result carrying the layer input (shared by layers on one input); kNoResult for a
  /// layer inside a control-flow region, which gets no statistics.
  unsigned result = 0;
  int64_t k = 0;       ///< reduction length of the layer's canonical weight
  /// Convolutions: the input vectors are the im2col patches of this window (NCHW input,
  /// channel-major patches of kernel[0] x kernel[1] taps, the weight's K order).
  bool isConv = false;
  int64_t kernel[2] = {1, 1}, strides[2] = {1, 1}, dilations[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
};

/// Appends the input of every layer sparq-compress-weights can compress (in the order it meets
/// them) to the results of the entry function of imported IR, so a dense build of the module
/// returns the activations calibration needs.
mlir::FailureOr<std::vector<CalibrationProbe>> instrumentForCalibration(mlir::ModuleOp module);

/// Options of `sparq-cpu-codegen-pipeline`.
struct PipelineOptions : public mlir::PassPipelineOptions<PipelineOptions> {
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Optimization level 0-3 (0: no tiling/vectorization)"),
                            llvm::cl::init(2)};
  Option<int64_t> panelWidth{
      *this, "panel-width",
      llvm::cl::desc("Columns per packed weight panel of the f32 micro-kernels (2 x the floats "
                     "per vector register of the target: 32 for AVX-512, 16 for AVX2)"),
      llvm::cl::init(32)};
  Option<int64_t> actBits{
      *this, "act-bits",
      llvm::cl::desc("0: float activations into compressed-weight kernels; 8: int8 activations "
                     "quantized per group at run time where a kernel supports it"),
      llvm::cl::init(0)};
  Option<bool> int8Dot{
      *this, "int8-dot",
      llvm::cl::desc("The target has AVX-512 VNNI: MatMulInteger products run on int8 dot "
                     "products"),
      llvm::cl::init(false)};
  Option<bool> int8Tables{
      *this, "int8-tables",
      llvm::cl::desc("The target has AVX-512 VBMI and VNNI: with act-bits 8, shift-add weights "
                     "run on the int8-table kernel and 2:4 + 4-bit weights on the int8 N:M "
                     "kernel"),
      llvm::cl::init(false)};
  Option<bool> lutCodes{
      *this, "lut-codes",
      llvm::cl::desc("The target has AVX-512: 1- to 3-bit weights with float activations at "
                     "M = 1 run on the lookup-table kernel as bit planes"),
      llvm::cl::init(false)};
  Option<int64_t> tileRows{
      *this, "tile-rows",
      llvm::cl::desc("Rows per register tile of the f32 micro-kernels (8 for AVX-512, 6 for "
                     "AVX2): the tile height of packed filters"),
      llvm::cl::init(8)};
  Option<bool> blockFusion{
      *this, "block-fusion",
      llvm::cl::desc("Compute convolution blocks as one loop over row tiles (sparq-block-fusion; "
                     "at opt-level 2 and above)"),
      llvm::cl::init(true)};
  Option<int64_t> fusionScratchKiB{
      *this, "fusion-scratch-kib",
      llvm::cl::desc("sparq-block-fusion: budget for one row tile's intermediates, in KiB"),
      llvm::cl::init(1024)};
  Option<int64_t> fusionMinTiles{
      *this, "fusion-min-tiles",
      llvm::cl::desc("sparq-block-fusion: fewest row tiles per image"), llvm::cl::init(4)};
  Option<bool> fusionKernels{
      *this, "fusion-kernels",
      llvm::cl::desc("sparq-block-fusion: inverted-residual blocks as one kernel call"),
      llvm::cl::init(true)};
  Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("f32 exp/expm1/tanh/erf as inline polynomials (sparq-approximate-math); "
                     "they use fused multiply-adds, so the driver enables it for CPUs with FMA"),
      llvm::cl::init(true)};
  Option<bool> profile{
      *this, "profile",
      llvm::cl::desc("Time each kernel at run time (sparq-profile-kernels; sparq-run --profile)"),
      llvm::cl::init(false)};
  /// Not a textual option: receives sparq-block-fusion's records (sparq-compile --report).
  FusionRecordSink fusionSink;
  Option<bool> fusionReport{
      *this, "fusion-report",
      llvm::cl::desc("Remarks from sparq-block-fusion on what it fused and what it left alone"),
      llvm::cl::init(false)};
};

/// Options of sparq-cuda-codegen-pipeline (sparq-compile --target=cuda).
struct CUDAPipelineOptions : public mlir::PassPipelineOptions<CUDAPipelineOptions> {
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("0-3: elementwise fusion from 1, ptxas -O level"),
                            llvm::cl::init(2)};
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture the kernels are built for (sm_80, "
                                          "sm_90)"),
                           llvm::cl::init("sm_80")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit whose ptxas and fatbinary assemble the kernels"),
      llvm::cl::init("/usr/local/cuda")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Kernel image in the artifact: fatbin (machine code and PTX), bin (machine "
                     "code) or isa (PTX text, no toolkit needed; for tests)"),
      llvm::cl::init("fatbin")};
  Option<int64_t> blockSize{*this, "block-size", llvm::cl::desc("Threads per block"),
                            llvm::cl::init(256)};
  Option<bool> denseFp16{
      *this, "dense-fp16",
      llvm::cl::desc("Dense layers with constant weights on the fp16 tensor-core kernel "
                     "(sparq-compile --gpu-precision=fp16)"),
      llvm::cl::init(false)};
  Option<bool> hostEmulation{
      *this, "host-emulation",
      llvm::cl::desc("Test mode: map the loops to blocks and threads as for the GPU, then run "
                     "them on the CPU (sequentially) instead of making kernels: checks the "
                     "mapping against reference outputs on machines without a GPU"),
      llvm::cl::init(false)};
};

/// sparq_onnx -> model contract (linalg/tensor/arith/math on tensors), verified.
void buildContractPipeline(mlir::OpPassManager &pm);
/// Model contract -> LLVM dialect with a C-interface entry point.
void buildCPUCodegenPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);
/// Model contract -> LLVM dialect whose entry point launches every op as a CUDA kernel
/// (gpu.binary ops hold the kernel images).
void buildCUDACodegenPipeline(mlir::OpPassManager &pm, const CUDAPipelineOptions &options);

/// Registers every sparq pass and the named pipelines.
void registerSparqPassesAndPipelines();

} // namespace sparq

#endif // SPARQ_PASSES_PASSES_H
