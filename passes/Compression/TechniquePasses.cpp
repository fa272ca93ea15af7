//===- passes/Compression/TechniquePasses.cpp - one-technique compression passes ===//
//
// sparq-nm-prune, sparq-quant-quantize and sparq-shiftadd-fit: sparq-compress-weights with the
// options of a single technique, so each technique has its own flag.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Weight/WeightDialect.h"


#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassManager.h"

namespace sparq {
#define GEN_PASS_DEF_NMPRUNEPASS
#define GEN_PASS_DEF_QUANTQUANTIZEPASS
#define GEN_PASS_DEF_SHIFTADDFITPASS
#include "passes/Compression/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

/// Runs sparq-compress-weights with `options` on `module` from inside `pass`.
template <typename PassT>
void runCompression(PassT &pass, const sparq::CompressionOptions &options) {
  OpPassManager pm(ModuleOp::getOperationName());
  pm.addPass(sparq::createCompressWeightsPass(options));
  if (failed(pass.runPipelineOn(pm)))
    pass.fail();
}

struct NMPrunePass : public sparq::impl::NMPrunePassBase<NMPrunePass> {
  using NMPrunePassBase::NMPrunePassBase;
  LogicalResult runPipelineOn(OpPassManager &pm) { return runPipeline(pm, getOperation()); }
  void fail() { signalPassFailure(); }
  void runOnOperation() override {
    sparq::CompressionOptions o;
    o.defaults.sparsity = std::to_string(n) + ":" + std::to_string(m);
    o.only = only;
    o.skip = skip;
    runCompression(*this, o);
  }
};

struct QuantQuantizePass : public sparq::impl::QuantQuantizePassBase<QuantQuantizePass> {
  using QuantQuantizePassBase::QuantQuantizePassBase;
  LogicalResult runPipelineOn(OpPassManager &pm) { return runPipeline(pm, getOperation()); }
  void fail() { signalPassFailure(); }
  void runOnOperation() override {
    sparq::CompressionOptions o;
    o.defaults.wbits = bits;
    o.defaults.group = group;
    o.defaults.symmetric = symmetric;
    o.defaults.searchClip = searchClip;
    o.defaults.rearrange = rearrangeChannels;
    o.only = only;
    o.skip = skip;
    runCompression(*this, o);
  }
};

struct ShiftAddFitPass : public sparq::impl::ShiftAddFitPassBase<ShiftAddFitPass> {
  using ShiftAddFitPassBase::ShiftAddFitPassBase;
  LogicalResult runPipelineOn(OpPassManager &pm) { return runPipeline(pm, getOperation()); }
  void fail() { signalPassFailure(); }
  void runOnOperation() override {
    sparq::CompressionOptions o;
    o.defaults.shiftadd = q;
    o.defaults.group = group;
    o.defaults.pow2 = pow2;
    o.defaults.rearrange = rearrangeChannels;
    o.only = only;
    o.skip = skip;
    runCompression(*this, o);
  }
};

} // namespace
