//===- include/sparq/Compiler/Compile.h - the compile API -----------*- C++ -*-===//
//
// What sparq-compile does, as a library: import an ONNX model, run the pipelines and write the
// requested form. Diagnostics go to the MLIRContext's diagnostic handlers.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_COMPILER_COMPILE_H
#define SPARQ_COMPILER_COMPILE_H

#include "sparq/Codegen/FusionRecord.h"
#include "sparq/Compression/Options.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <string>
#include <vector>

namespace sparq {

/// Where compilation stops and what it writes.
enum class EmitKind {
  ONNX,       ///< sparq_onnx IR as imported (MLIR text)
  Compressed, ///< imported IR after weight compression (MLIR text)
  Contract, ///< model-contract IR (linalg/tensor/arith/math on tensors)
  LLVM,     ///< LLVM dialect (MLIR text)
  Obj,      ///< relocatable object file
  Lib,      ///< shared-object model artifact (default)
};

struct CompileOptions {
  std::string inputPath;
  std::string outputPath; ///< "-" writes text forms to stdout
  /// `NAME=D0xD1x...` entries pinning input dimensions.
  std::vector<std::string> inputShapes;
  /// `NAME=V[,V...]` entries fixing inputs to values (they become constants).
  std::vector<std::string> inputValues;
  /// --dynamic-inputs: every dimension of every input not pinned by inputShapes becomes a
  /// distinct symbol (the forced-dynamic mode the conformance runner measures).
  bool dynamicInputs = false;
  EmitKind emit = EmitKind::Lib;
  unsigned optLevel = 2;
  /// --block-fusion: convolution blocks as one loop over row tiles (at optLevel >= 2).
  bool blockFusion = true;
  /// --fusion-report: remarks on what block fusion fused and what it left alone.
  bool fusionReport = false;
  /// --fusion-scratch-kib / --fusion-min-tiles: the tile-height choice of block fusion.
  int64_t fusionScratchKiB = 1024;
  int64_t fusionMinTiles = 4;
  /// --fusion-kernels: inverted-residual blocks as one kernel call instead of row tiles.
  bool fusionKernels = true;
  /// --profile: time each kernel; the artifact exports its kernel table (docs/profile.md).
  bool profile = false;
  std::string targetCPU = "native"; ///< --cpu: "native"/"host" or an LLVM CPU name
  /// --target: "cpu" (default) or "cuda", "cuda:sm_80", "cuda:sm_90" (the whole model on an
  /// NVIDIA GPU; docs/cuda.md). The host code of a CUDA artifact is still built for targetCPU.
  std::string target = "cpu";
  /// --cuda-host-emulation (a test mode): --target=cuda's loop mapping, run on the CPU.
  bool cudaHostEmulation = false;
  /// --gpu-precision: "fp32" or "fp16", what dense layers with constant weights compute in on
  /// the CUDA target (fp16: on the tensor-core kernels).
  std::string gpuPrecision = "fp32";
  /// --cuda-path: the CUDA toolkit whose ptxas and fatbinary assemble the kernels.
  std::string cudaPath = "/usr/local/cuda";
  /// Linker driver for EmitKind::Lib; empty means the configured default.
  std::string linker;
  CompressionOptions compression;
  /// 0: compressed-weight kernels take float activations; 8: int8 activations quantized per
  /// group at run time where a kernel supports it (--act-bits).
  unsigned actBits = 0;
  /// Path for the copy of the input model with compressed weights expanded to float32.
  std::string exportDequantizedPath;
  /// Called during compression with (layers done, total layers, current layer name).
  std::function<void(size_t, size_t, llvm::StringRef)> progress;
  /// --calibration: a folder of samples (folders of input_K.pb / .npy) the dense model is run
  /// on to collect what the data-aware compression methods need (docs/calibration.md).
  std::string calibrationDir;
  /// Called while calibrating with (samples done, total samples).
  std::function<void(size_t, size_t)> calibrationProgress;
  /// Filled with one entry per compressed layer.
  std::vector<LayerReport> *report = nullptr;
  /// If set, receives what block fusion fused and left alone (--report's "fusion" entries).
  std::vector<FusionRecord> *fusion = nullptr;
};

/// Creates a context with every dialect and extension sparq needs registered.
std::unique_ptr<mlir::MLIRContext> createCompilerContext();

/// Compiles per `options`. Errors are emitted as diagnostics on `context`.
mlir::LogicalResult compileModel(const CompileOptions &options, mlir::MLIRContext &context);

} // namespace sparq

#endif // SPARQ_COMPILER_COMPILE_H
