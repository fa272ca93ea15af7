//===- test/fuzz/ImportFuzzer.cpp - libFuzzer target: the ONNX importer ---------===//
//
// Feeds arbitrary bytes to the importer as a model file (importONNXBytes): protobuf parsing,
// ModelCheck's validation, ONNX shape inference, function expansion (of every operator that has
// a function body) and shape folding, and the emission of sparq_onnx IR. Any crash,
// sanitizer report, leak, timeout or out-of-memory is a bug; clean errors are the expected
// outcome for malformed input. See docs/fuzzing.md.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>
#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context interns every type and attribute it sees for its lifetime: a fresh one every
  // 1000 inputs keeps the fuzzer's memory bounded (its -rss_limit_mb catches real blow-ups).
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static unsigned uses = 0;
  if (!ctx || ++uses % 1000 == 0) {
    ctx = std::make_unique<mlir::MLIRContext>(mlir::MLIRContext::Threading::DISABLED);
    ctx->getDiagEngine().registerHandler([](mlir::Diagnostic &) { return mlir::success(); });
  }
  static const sparq::ImportOptions options = [] {
    sparq::ImportOptions o;
    o.convertedOps = [](llvm::StringRef, llvm::StringRef, int64_t) { return false; };
    return o;
  }();
  // A path in a folder that holds no data files: external data must fail cleanly.
  mlir::OwningOpRef<mlir::ModuleOp> module = sparq::importONNXBytes(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "/nonexistent/fuzz.onnx",
      ctx.get(), options);
  (void)module;
  return 0;
}
