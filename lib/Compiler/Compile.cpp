//===- lib/Compiler/Compile.cpp - the compile API ------------------------------===//
#include "sparq/Compiler/Compile.h"
#include "lib/Compiler/CompileInternal.h"

#include "sparq/Formats/DensePanels.h"

#include "lib/Artifact/Artifact.h"
#include "lib/Artifact/WeightObject.h"
#include "lib/Import/ONNX/ONNXImporter.h"
#include "lib/Target/CPU/CPUTarget.h"
#include "passes/Passes.h"
#include "sparq/InitAll.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SetVector.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <optional>

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

/// Runs sparq-compress-weights (with the statistics of --calibration, if any), fills the report
/// and writes --export-dequantized.
LogicalResult compress(const CompileOptions &options, ModuleOp module,
                       std::shared_ptr<const weight::CalibrationData> calibration) {
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
  compression.calibration = std::move(calibration);
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

/// `loc` (a location of another context) in `context`: files, names and their nesting are kept.
Location translateLocation(Location loc, MLIRContext &context) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return FileLineColLoc::get(&context, file.getFilename().str(), file.getLine(),
                               file.getColumn());
  if (auto name = dyn_cast<NameLoc>(loc))
    return NameLoc::get(StringAttr::get(&context, name.getName().str()),
                        translateLocation(name.getChildLoc(), context));
  return UnknownLoc::get(&context);
}

/// Emits `diag` (of another context) again in `context`, with its notes.
void forwardDiagnostic(Diagnostic &diag, MLIRContext &context) {
  InFlightDiagnostic copy = context.getDiagEngine().emit(
      translateLocation(diag.getLocation(), context), diag.getSeverity());
  copy << diag.str();
  for (Diagnostic &note : diag.getNotes())
    copy.attachNote(translateLocation(note.getLocation(), context)) << note.str();
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

/// Weights of at least this many bytes go to the weight object (WeightObject.h) instead of
/// through LLVM IR; smaller constants stay in IR, where LLVM may fold them into the code.
static constexpr size_t kMinExternalWeightBytes = 4096;

/// Erases the private constant globals of the LLVM-dialect `module` that no code reads
/// (packing for the kernels leaves the original of each packed weight unused; LLVM would drop
/// them, but only after translation had copied them, and at -O0 not at all).
static void dropUnusedConstants(ModuleOp module) {
  llvm::DenseSet<StringRef> used;
  module.walk([&](LLVM::AddressOfOp addr) { used.insert(addr.getGlobalName()); });
  llvm::SmallVector<LLVM::GlobalOp> dead;
  module.walk([&](LLVM::GlobalOp global) {
    if (global.getConstant() && isa_and_nonnull<ElementsAttr>(global.getValueAttr()) &&
        !global.getInitializerBlock() && !used.contains(global.getSymName()) &&
        (global.getLinkage() == LLVM::Linkage::Private ||
         global.getLinkage() == LLVM::Linkage::Internal))
      dead.push_back(global);
  });
  for (LLVM::GlobalOp global : dead)
    global.erase();
}

/// Turns every large constant global of the LLVM-dialect `module` whose value is a dense
/// (resource) elements attribute into an external hidden declaration and returns its bytes, to
/// be written into the weight object. `keepAlive` receives the blobs the bytes live in. Run
/// after dropUnusedConstants, so that only weights the code reads are written.
static std::vector<ExternalWeight>
externalizeWeights(ModuleOp module,
                   llvm::SetVector<DialectResourceBlobManager::BlobEntry *> &keepAlive) {
  std::vector<ExternalWeight> weights;
  module.walk([&](LLVM::GlobalOp global) {
    if (!global.getConstant() || !global.getValueAttr() || global.getInitializerBlock())
      return;
    auto shaped = dyn_cast<ShapedType>(cast<TypedAttr>(global.getValueAttr()).getType());
    if (!shaped || !shaped.hasStaticShape() || !shaped.getElementType().isIntOrFloat() ||
        shaped.getElementTypeBitWidth() % 8 != 0)
      return;
    const size_t bytes = size_t(shaped.getNumElements()) * (shaped.getElementTypeBitWidth() / 8);
    if (bytes < kMinExternalWeightBytes)
      return;
    ArrayRef<char> data;
    if (auto res = dyn_cast<DenseResourceElementsAttr>(global.getValueAttr())) {
      DialectResourceBlobManager::BlobEntry *entry = res.getRawHandle().getResource();
      if (!entry || !entry->getBlob())
        return;
      data = entry->getBlob()->getData();
      keepAlive.insert(entry);
    } else if (auto dense = dyn_cast<DenseElementsAttr>(global.getValueAttr())) {
      if (dense.isSplat())
        return;
      data = dense.getRawData();
    } else {
      return;
    }
    if (data.size() != bytes)
      return;
    weights.push_back({global.getSymName().str(), data,
                       std::max<uint64_t>(global.getAlignment().value_or(0), 64)});
    global.removeValueAttr();
    global.setLinkage(LLVM::Linkage::External);
    global.setVisibility_(LLVM::Visibility::Hidden);
    global.setDsoLocal(true);
  });
  return weights;
}

/// The GPU architecture of --target ("" for the CPU), or an error naming the accepted forms.
static FailureOr<std::string> parseTarget(StringRef target, Location loc) {
  if (target == "cpu" || target.empty())
    return std::string();
  if (target == "cuda")
    return std::string("sm_80");
  if (StringRef chipName = target; chipName.consume_front("cuda:")) {
    static const char *const kChips[] = {"sm_80", "sm_86", "sm_87", "sm_89", "sm_90"};
    for (const char *chip : kChips)
      if (chipName == chip)
        return std::string(chip);
  }
  return emitError(loc) << "--target: unknown target '" << target
                        << "' (cpu, cuda, or cuda:sm_80, sm_86, sm_87, sm_89 or sm_90)";
}

LogicalResult lowerAndWrite(ModuleOp module, const CompileOptions &options, EmitKind emit,
                            StringRef outputPath, bool lastUse) {
  auto release = [](DialectResourceBlobManager::BlobEntry *entry) {
    entry->setBlob(AsmResourceBlob());
  };
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
  pipelineOptions.lutCodes = target->vectorFloats == 16;
  pipelineOptions.int8Dot = target->avx512vnni;
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
  FailureOr<std::string> cudaChip = parseTarget(options.target, loc);
  if (failed(cudaChip))
    return failure();
  {
    PassManager pm(&context);
    if (cudaChip->empty()) {
      buildCPUCodegenPipeline(pm, pipelineOptions);
    } else {
      if (options.profile)
        return emitError(loc) << "--profile is not supported with --target=" << options.target
                              << " yet (docs/cuda.md)";
      // The kernel images are assembled now, by the toolkit's ptxas and fatbinary.
      if (emit != EmitKind::LLVM && !options.cudaHostEmulation &&
          !llvm::sys::fs::exists(options.cudaPath + "/bin/ptxas"))
        return emitError(loc) << "--target=" << options.target << ": no ptxas in the CUDA "
                              << "toolkit '" << options.cudaPath
                              << "' (set --cuda-path or SPARQ_CUDA_PATH)";
      CUDAPipelineOptions cuda;
      cuda.optLevel = options.optLevel;
      cuda.chip = *cudaChip;
      cuda.toolkit = options.cudaPath;
      // --emit=llvm shows the kernels as PTX text; artifacts carry machine code and PTX.
      cuda.format = emit == EmitKind::LLVM ? "isa" : "fatbin";
      cuda.hostEmulation = options.cudaHostEmulation;
      if (options.gpuPrecision != "fp32" && options.gpuPrecision != "fp16")
        return emitError(loc) << "--gpu-precision: unknown precision '" << options.gpuPrecision
                              << "' (fp32 or fp16; the tensor-core kernels compute in fp16)";
      cuda.denseFp16 = options.gpuPrecision == "fp16";
      buildCUDACodegenPipeline(pm, cuda);
    }
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

  // Weights no code reads go now, with their blobs on the last use of the module (the
  // originals of packed weights: one copy of the weights fewer in memory from here on).
  dropUnusedConstants(module);
  if (lastUse) {
    llvm::SetVector<DialectResourceBlobManager::BlobEntry *> live;
    collectResourceBlobs(module, live);
    for (DialectResourceBlobManager::BlobEntry *entry : blobs)
      if (!live.contains(entry))
        release(entry);
  }
  // A shared object gets its large weights from a separate object written straight from their
  // blobs: LLVM never copies them (with the release above: 2.53 -> 0.99 GB peak for 378 MiB
  // of fp32 weights, docs/calibration.md).
  std::vector<ExternalWeight> externalWeights;
  llvm::SetVector<DialectResourceBlobManager::BlobEntry *> externalBlobs;
  const uint16_t weightMachine = weightObjectMachine(target->triple);
  if (emit == EmitKind::Lib && weightMachine)
    externalWeights = externalizeWeights(module, externalBlobs);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";
  // The data of the other weights is in LLVM IR now: free it (the weights and their packed
  // copies), so that the object is emitted with one copy of them in memory fewer (3.2 -> 2.3 GB
  // for 378 MiB of fp32 weights). The weight object's blobs go once it is written.
  if (lastUse) {
    collectResourceBlobs(module, blobs);
    for (DialectResourceBlobManager::BlobEntry *entry : blobs)
      if (!externalBlobs.contains(entry))
        release(entry);
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
  std::optional<llvm::sys::fs::TempFile> weightObject;
  std::vector<std::string> extraObjects;
  if (!externalWeights.empty()) {
    llvm::Expected<llvm::sys::fs::TempFile> file =
        writeWeightObjectFile(externalWeights, weightMachine);
    if (!file)
      return emitError(loc) << llvm::toString(file.takeError());
    weightObject.emplace(std::move(*file));
    extraObjects.push_back(weightObject->TmpName);
    // The bytes are in the file now: the linker and the digest's pass over the artifact run
    // without them in memory.
    if (lastUse)
      for (DialectResourceBlobManager::BlobEntry *entry : externalBlobs)
        release(entry);
  }
  llvm::Error linked = linkSharedObject(
      objectBytes, outputPath, options.linker.empty() ? defaultLinker() : options.linker,
      extraObjects);
  if (weightObject)
    llvm::consumeError(weightObject->discard());
  if (linked)
    return emitError(loc) << llvm::toString(std::move(linked));
  return success();
}


LogicalResult compileModel(const CompileOptions &options, MLIRContext &context) {
  Location loc = FileLineColLoc::get(&context, options.inputPath, 0, 0);
  if (failed(parseTarget(options.target, loc)))
    return failure();
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
  bool mlirInput = StringRef(options.inputPath).ends_with(".mlir");
  if (mlirInput && (!options.inputShapes.empty() || !options.inputValues.empty()))
    return emitError(loc) << "--input-shape and --input-value apply to ONNX models only";
  // MLIR input: imported, contract or compressed IR with a `sparq.entry` function.
  auto load = [&](MLIRContext &ctx) {
    return mlirInput ? parseSourceFile<ModuleOp>(options.inputPath, &ctx)
                     : importONNXFile(options.inputPath, &ctx, importOptions);
  };

  // --calibration first, on a model of its own: its instrumented build frees that model's
  // weights once the artifact is written, so that only the artifact and the statistics are in
  // memory while the samples run; the model compiled below is imported afterwards.
  std::shared_ptr<const weight::CalibrationData> calibration;
  if (options.emit != EmitKind::ONNX && options.compression.enabled() &&
      !options.calibrationDir.empty()) {
    std::unique_ptr<MLIRContext> own = createCompilerContext();
    // Its errors reach the caller; warnings and remarks are dropped: the import repeats below
    // with the same ones, and the instrumented dense build is not what the user gets.
    ScopedDiagnosticHandler forward(own.get(), [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error)
        forwardDiagnostic(diag, context);
      return success();
    });
    OwningOpRef<ModuleOp> dense = load(*own);
    if (!dense)
      return failure();
    auto collected = collectCalibration(std::move(dense), options);
    if (failed(collected))
      return failure();
    calibration = *collected;
  }

  OwningOpRef<ModuleOp> module = load(context);
  if (!module)
    return failure();
  if (options.emit == EmitKind::ONNX)
    return writeText(options, *module, loc);

  if (options.compression.enabled()) {
    if (failed(compress(options, *module, std::move(calibration))))
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
