//===- passes/Pipelines.cpp - named pass pipelines ----------------------------===//
//
// The driver, sparq-opt and the plugin all build their pipelines through these functions.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;

namespace sparq {

namespace {
/// Appends an upstream textual pipeline (pass list without the builtin.module wrapper).
void addTextual(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("sparq: invalid built-in pass pipeline: " + pipeline);
}
/// The artifact entry (sparq-prepare-entry), bufferization and buffer deallocation: the same
/// for every target.
void addEntryBufferization(OpPassManager &pm) {
  pm.addPass(createPrepareEntryPass());
  addTextual(pm, "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
                 "one-shot-bufferize{bufferize-function-boundaries=1 "
                 "function-boundary-type-conversion=identity-layout-map "
                 "allow-return-allocs-from-loops=1},"
                 "canonicalize");
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
}
} // namespace

void buildContractPipeline(OpPassManager &pm) {
  pm.addPass(createConvertONNXToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createVerifyContractPass());
}

void buildCPUCodegenPipeline(OpPassManager &pm, const PipelineOptions &options) {
  // First, while every op is still at the top level of the entry function: what the code assumes
  // about dynamic sizes becomes checks that end the invocation with an error.
  pm.addNestedPass<func::FuncOp>(createInsertRuntimeChecksPass());
  // Compressed-weight consumers run on the CPU kernels that exist for their formats, the others
  // through their reference lowering.
  if (options.optLevel > 0) {
    SelectCompressedMicroKernelsPassOptions compressed;
    compressed.actBits = options.actBits;
    compressed.int8Tables = options.int8Tables;
    compressed.lutCodes = options.lutCodes;
    compressed.int8Dot = options.int8Dot;
    pm.addPass(createSelectCompressedMicroKernelsPass(compressed));
  }
  pm.addPass(createConvertCompressedToLinalgPass());
  if (options.optLevel > 0) {
    // Attention blocks, matched in the form the ONNX lowering gives them (before elementwise
    // fusion merges their softmax), become one kernel.
    if (options.blockFusion && options.optLevel >= 2) {
      FuseAttentionPassOptions attention;
      attention.report = options.fusionReport;
      pm.addPass(createFuseAttentionPass(attention, options.fusionSink));
    }
    pm.addNestedPass<func::FuncOp>(createLinalgFuseElementwisePass());
    addTextual(pm, "canonicalize,cse");
    if (options.blockFusion && options.optLevel >= 2) {
      BlockFusionPassOptions fusion;
      fusion.report = options.fusionReport;
      fusion.scratchKiB = options.fusionScratchKiB;
      fusion.minTiles = options.fusionMinTiles;
      fusion.invertedResidualKernel = options.fusionKernels;
      pm.addPass(createBlockFusionPass(fusion, options.fusionSink));
      addTextual(pm, "canonicalize,cse");
    }
    pm.addNestedPass<func::FuncOp>(createSelectMicroKernelsPass());
    // After the micro-kernels fold epilogues (bias, ReLU, residual add) into their ops.
    if (options.profile)
      pm.addPass(createProfileKernelsPass());
    LinalgDistributePassOptions distribute;
    pm.addNestedPass<func::FuncOp>(createLinalgDistributePass(distribute));
    LinalgTileAndVectorizePassOptions tv;
    pm.addNestedPass<func::FuncOp>(createLinalgTileAndVectorizePass(tv));
    pm.addPass(createCanonicalizerPass());
  }
  if (options.profile && options.optLevel == 0)
    pm.addPass(createProfileKernelsPass());
  // After fusion and tiling: its output copies are plain (rank-0 copies crash the elementwise
  // fusion pass) and need no tiling.
  addEntryBufferization(pm);
  // scf.forall chunks (sparq-linalg-distribute) become OpenMP parallel loops.
  addTextual(pm, "convert-bufferization-to-memref");
  LowerMicroKernelsPassOptions ukernels;
  ukernels.panelWidth = options.panelWidth;
  ukernels.tileRows = options.tileRows;
  pm.addPass(createLowerMicroKernelsPass(ukernels));
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopiesPass());
  addTextual(pm, "func.func(scf-forall-to-parallel),convert-scf-to-openmp,canonicalize");
  pm.addPass(createInlineAllocaScopesPass());
  if (options.approximateMath)
    pm.addPass(createApproximateMathPass());
  if (options.optLevel > 0)
    pm.addPass(createReassociateReductionsPass());
  addTextual(pm, "func.func(convert-linalg-to-loops),"
                 "convert-vector-to-scf{full-unroll=1},"
                 "expand-strided-metadata,lower-affine,"
                 "convert-scf-to-cf");
  pm.addPass(createLowerRuntimeChecksPass());
  addTextual(pm, "convert-math-to-funcs{convert-ctlz=0},"
                 "convert-vector-to-llvm,"
                 "convert-math-to-llvm,convert-math-to-libm,"
                 "finalize-memref-to-llvm{use-generic-functions=1},convert-arith-to-llvm,convert-index-to-llvm,"
                 "convert-cf-to-llvm,convert-func-to-llvm,convert-openmp-to-llvm,convert-ub-to-llvm,"
                 "convert-arith-to-llvm,reconcile-unrealized-casts,canonicalize,cse");
}

void buildCUDACodegenPipeline(OpPassManager &pm, const CUDAPipelineOptions &options) {
  pm.addNestedPass<func::FuncOp>(createInsertRuntimeChecksPass());
  // Compressed layers on the tensor-core kernels (runtime/kernels/cuda) where one reads their
  // formats; the others through their reference lowering (decoded by the loop kernels).
  GpuTensorCoresPassOptions tensorCores;
  tensorCores.emulate = options.hostEmulation;
  tensorCores.denseFp16 = options.denseFp16;
  pm.addPass(createGpuTensorCoresPass(tensorCores));
  pm.addPass(createConvertCompressedToLinalgPass());
  if (options.optLevel > 0) {
    pm.addNestedPass<func::FuncOp>(createLinalgFuseElementwisePass());
    addTextual(pm, "canonicalize,cse");
  }
  addEntryBufferization(pm);
  // Integer powers become functions before outlining, which copies them into the kernels'
  // modules.
  addTextual(pm, "convert-bufferization-to-memref,"
                 "func.func(sparq-lower-strided-copies,convert-linalg-to-parallel-loops),"
                 "canonicalize,convert-math-to-funcs{convert-ctlz=0}");
  GpuMapLoopsPassOptions map;
  map.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(createGpuMapLoopsPass(map));
  // With host emulation the mapped loops run on the CPU, one iteration after another;
  // otherwise they become kernels, the host's buffers device buffers, and one stream per
  // region of device work frees buffers stream-ordered.
  const bool gpu = !options.hostEmulation;
  if (gpu) {
    addTextual(pm, "func.func(convert-parallel-loops-to-gpu),gpu-kernel-outlining");
    pm.addPass(createGpuPlaceBuffersPass());
    addTextual(pm, "canonicalize,func.func(gpu-async-region)");
  }
  addTextual(pm, "expand-strided-metadata,lower-affine,convert-scf-to-cf");
  pm.addPass(createLowerRuntimeChecksPass());
  std::string lower;
  llvm::raw_string_ostream os(lower);
  // PTX 8.0 (CUDA 12) for every chip: LLVM's default PTX version predates sm_80/sm_90.
  if (gpu)
    os << "nvvm-attach-target{chip=" << options.chip.getValue()
       << " features=+ptx80 O=" << std::min(3u, options.optLevel.getValue()) << "},"
       << "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,reconcile-unrealized-casts),";
  os << "convert-math-to-funcs{convert-ctlz=0},convert-math-to-llvm,convert-math-to-libm,"
     << "finalize-memref-to-llvm{use-generic-functions=1},";
  if (gpu)
    os << "gpu-to-llvm,";
  os << "convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,"
     << "convert-ub-to-llvm,reconcile-unrealized-casts";
  addTextual(pm, lower);
  if (!gpu) {
    addTextual(pm, "canonicalize,cse");
    return;
  }
  pm.addPass(createGpuResidentWeightsPass());
  std::string binary;
  llvm::raw_string_ostream bos(binary);
  bos << "gpu-module-to-binary{format=" << options.format.getValue()
      << " toolkit=" << options.toolkit.getValue() << "},canonicalize,cse";
  addTextual(pm, binary);
}

void registerSparqPassesAndPipelines() {
  registerSparqConversionPasses();
  registerSparqCompressionPasses();
  registerSparqCodegenPasses();
  PassPipelineRegistration<>("sparq-contract-pipeline",
                             "Convert imported sparq_onnx IR to the verified model contract form",
                             buildContractPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "sparq-cpu-codegen-pipeline",
      "Lower model-contract IR to the LLVM dialect with the artifact entry point",
      buildCPUCodegenPipeline);
  PassPipelineRegistration<CUDAPipelineOptions>(
      "sparq-cuda-codegen-pipeline",
      "Lower model-contract IR to the LLVM dialect with CUDA kernels (gpu.binary) and an entry "
      "point that launches them",
      buildCUDACodegenPipeline);
}

} // namespace sparq
