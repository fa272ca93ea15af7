//===- lib/Compiler/Compile.cpp - the compile API ------------------------------===//
#include "sparq/Compiler/Compile.h"
#include "lib/Compiler/CompileInternal.h"

#include "sparq/Formats/DensePanels.h"

#include "lib/Artifact/Artifact.h"
#include "lib/Import/ONNX/ONNXImporter.h"
#include "lib/Target/CPU/CPUTarget.h"
#include "passes/Passes.h"
#include "sparq/InitAll.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SetVector.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>

#include <mutex>

using namespace mlir;

namespace sparq {

std::unique_ptr<MLIRContext> createCompilerContext() {
  // The pipelines are partly written as textual upstream pass lists, which need the registry.
  static std::once_flag registered;
  std::call_once(registered, [] { registerAllPasses(); });
  DialectRegistry registry;
  registerAllDialects(registry);
  auto ctx = std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  ctx->loadAllAvailableDialects();
  return ctx;
}

namespace {

/// Writes `path` ('-': stdout) through a temporary file next to it, renamed over it once
/// complete (llvm::writeToOutput): a failed or interrupted compile leaves no partial output.
LogicalResult writeOutput(StringRef path, Location loc,
                          llvm::function_ref<void(raw_ostream &)> write) {
  if (llvm::Error err = llvm::writeToOutput(path, [&](raw_ostream &os) {
        write(os);
        return llvm::Error::success();
      }))
    return emitError(loc) << "cannot write output '" << path
                          << "': " << llvm::toString(std::move(err));
  return success();
}

LogicalResult writeText(const CompileOptions &options, ModuleOp module, Location loc) {
  return writeOutput(options.outputPath, loc, [&](raw_ostream &os) { module.print(os); });
}

LogicalResult writeBytes(StringRef path, StringRef bytes, Location loc) {
  return writeOutput(path, loc, [&](raw_ostream &os) { os << bytes; });
}

/// Runs sparq-compress-weights, fills the report and writes --export-dequantized.
LogicalResult compress(const CompileOptions &options, ModuleOp module) {
  std::map<std::string, std::vector<float>> dequantized;
  DequantizedWeightSink sink;
  if (!options.exportDequantizedPath.empty())
    sink = [&](StringRef name, ArrayRef<float> values) {
      dequantized[name.str()] = std::vector<float>(values.begin(), values.end());
    };
  PassManager pm(module.getContext());
  LayerReportSink report;
  if (options.report)
    report = [&](const LayerReport &r) { options.report->push_back(r); };
  CompressionOptions compression = options.compression;
  if (!options.calibrationDir.empty()) {
    auto calibration = collectCalibration(module, options);
    if (failed(calibration))
      return failure();
    compression.calibration = *calibration;
  }
  pm.addPass(createCompressWeightsPass(compression, sink, options.progress, report));
  if (failed(pm.run(module)))
    return failure();
  if (!options.exportDequantizedPath.empty()) {
    if (StringRef(options.inputPath).ends_with(".mlir"))
      return emitError(module.getLoc()) << "--export-dequantized needs an ONNX input model";
    if (llvm::Error err = writeModelWithInitializers(options.inputPath,
                                                     options.exportDequantizedPath, dequantized))
      return emitError(module.getLoc())
             << "--export-dequantized: " << llvm::toString(std::move(err));
  }
  return success();
}

} // namespace

/// Adds the blob of every dense_resource constant `module` refers to (the weights) to `blobs`.
/// Blobs live in the context, not in the ops: erasing a constant's last user does not free it.
static void collectResourceBlobs(ModuleOp module,
                                 llvm::SetVector<DialectResourceBlobManager::BlobEntry *> &blobs) {
  module.walk([&](Operation *op) {
    for (NamedAttribute attr : op->getAttrs())
      if (auto res = dyn_cast<DenseResourceElementsAttr>(attr.getValue()))
        if (auto *entry = res.getRawHandle().getResource())
          blobs.insert(entry);
  });
}

LogicalResult lowerAndWrite(ModuleOp module, const CompileOptions &options, EmitKind emit,
                            StringRef outputPath, bool lastUse) {
  MLIRContext &context = *module.getContext();
  // The weights as they enter the pipelines (packing for the kernels replaces some by copies).
  llvm::SetVector<DialectResourceBlobManager::BlobEntry *> blobs;
  if (lastUse)
    collectResourceBlobs(module, blobs);
  Location loc = module.getLoc();
  auto target = resolveCPU(options.targetCPU);
  if (!target)
    return emitError(loc) << "--cpu: " << llvm::toString(target.takeError());
  PipelineOptions pipelineOptions;
  pipelineOptions.optLevel = options.optLevel;
  pipelineOptions.actBits = options.actBits;
  pipelineOptions.int8Tables = target->avx512vbmiVnni;
  pipelineOptions.blockFusion = options.blockFusion;
  pipelineOptions.fusionReport = options.fusionReport;
  pipelineOptions.fusionScratchKiB = options.fusionScratchKiB;
  pipelineOptions.fusionMinTiles = options.fusionMinTiles;
  pipelineOptions.fusionKernels = options.fusionKernels;
  pipelineOptions.profile = options.profile;
  if (options.fusion)
    pipelineOptions.fusionSink = [&](const FusionRecord &r) { options.fusion->push_back(r); };
  // The polynomials are chains of fused multiply-adds: without FMA each would be a libm call.
  pipelineOptions.approximateMath = target->fma;
  pipelineOptions.panelWidth = formats::panelWidthFor(target->vectorFloats);
  pipelineOptions.tileRows = formats::tileRowsFor(target->vectorFloats);
  {
    PassManager pm(&context);
    buildContractPipeline(pm);
    if (failed(pm.run(module)))
      return failure();
  }
  if (emit == EmitKind::Contract)
    return writeOutput(outputPath, loc, [&](raw_ostream &os) { module.print(os); });
  {
    PassManager pm(&context);
    buildCPUCodegenPipeline(pm, pipelineOptions);
    if (failed(pm.run(module)))
      return failure();
  }
  auto sigAttr = module->getAttrOfType<StringAttr>("sparq.signature");
  if (!sigAttr)
    return emitError(loc) << "internal error: the codegen pipeline recorded no signature";
  std::string signature = sigAttr.getValue().str();
  module->removeAttr("sparq.signature");
  std::string profileTable;
  if (auto table = module->getAttrOfType<StringAttr>("sparq.profile")) {
    profileTable = table.getValue().str();
    module->removeAttr("sparq.profile");
  }
  if (emit == EmitKind::LLVM)
    return writeOutput(outputPath, loc, [&](raw_ostream &os) { module.print(os); });

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";
  // Their data is in LLVM IR now: free it (the weights and their packed copies), so that the
  // object is emitted with one copy of them in memory fewer (3.2 -> 2.3 GB for 378 MiB of fp32
  // weights).
  if (lastUse) {
    collectResourceBlobs(module, blobs);
    for (DialectResourceBlobManager::BlobEntry *entry : blobs)
      entry->setBlob(AsmResourceBlob());
  }
  unsigned numInputs = 0;
  {
    // Count entry inputs from the signature text ("inputs N" on line 2).
    StringRef rest = StringRef(signature).split('\n').second;
    StringRef line = rest.split('\n').first;
    (void)line.drop_front(strlen("inputs ")).getAsInteger(10, numInputs);
  }
  if (llvm::Error err = addArtifactABI(*llvmModule, kEntryFunctionName, signature, numInputs,
                                       target->runtimeDescription, profileTable))
    return emitError(loc) << llvm::toString(std::move(err));
  llvm::Expected<llvm::SmallVector<char, 0>> object =
      emitObject(*llvmModule, *target, options.optLevel);
  if (!object)
    return emitError(loc) << llvm::toString(object.takeError());
  llvmModule.reset(); // its constants are in the object now
  StringRef objectBytes(object->data(), object->size());
  if (emit == EmitKind::Obj)
    return writeBytes(outputPath, objectBytes, loc);
  if (llvm::Error err = linkSharedObject(objectBytes, outputPath,
                                         options.linker.empty() ? defaultLinker()
                                                                : options.linker))
    return emitError(loc) << llvm::toString(std::move(err));
  return success();
}


LogicalResult compileModel(const CompileOptions &options, MLIRContext &context) {
  Location loc = FileLineColLoc::get(&context, options.inputPath, 0, 0);
  ImportOptions importOptions;
  importOptions.convertedOps = isONNXOpConverted;
  importOptions.dynamicInputs = options.dynamicInputs;
  for (const std::string &flag : options.inputShapes) {
    if (llvm::Error err = parseInputShapeFlag(flag, importOptions))
      return emitError(UnknownLoc::get(&context)) << llvm::toString(std::move(err));
  }
  for (const std::string &flag : options.inputValues) {
    if (llvm::Error err = parseInputValueFlag(flag, importOptions))
      return emitError(UnknownLoc::get(&context)) << llvm::toString(std::move(err));
  }
  OwningOpRef<ModuleOp> module;
  if (StringRef(options.inputPath).ends_with(".mlir")) {
    // MLIR input (imported, contract or compressed IR with a `sparq.entry` function).
    if (!options.inputShapes.empty() || !options.inputValues.empty())
      return emitError(loc) << "--input-shape and --input-value apply to ONNX models only";
    module = parseSourceFile<ModuleOp>(options.inputPath, &context);
  } else {
    module = importONNXFile(options.inputPath, &context, importOptions);
  }
  if (!module)
    return failure();
  if (options.emit == EmitKind::ONNX)
    return writeText(options, *module, loc);

  if (options.compression.enabled()) {
    if (failed(compress(options, *module)))
      return failure();
  } else if (!options.calibrationDir.empty()) {
    return emitError(loc) << "--calibration needs compression settings (--scheme, --sparsity, "
                             "--wbits, --shiftadd or --recipe)";
  } else if (!options.exportDequantizedPath.empty()) {
    return emitError(loc) << "--export-dequantized needs compression settings (--scheme, "
                             "--sparsity, --wbits, --shiftadd or --recipe)";
  }
  if (options.emit == EmitKind::Compressed)
    return writeText(options, *module, loc);

  return lowerAndWrite(*module, options, options.emit, options.outputPath, /*lastUse=*/true);
}

} // namespace sparq
