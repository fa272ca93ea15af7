//===- tools/sparq-compile/sparq-compile.cpp - the compiler driver -------------===//
//
//   sparq-compile MODEL.onnx -o MODEL.so [--input-shape NAME=DIMS]...
//                 [--emit=onnx|contract|llvm|obj|lib] [-O0..-O3]
//
// Errors are printed as one line each: `sparq-compile: error: FILE: MESSAGE`; exit code 1.
//
//===----------------------------------------------------------------------===//
#include "sparq/Compiler/Compile.h"
#include "sparq/Compiler/ReportChart.h"

#include "dialects/Weight/WeightFormat.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/PrettyStackTrace.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace llvm;

static cl::OptionCategory category("sparq-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx | module.mlir>"), cl::Required,
                                      cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::Required, cl::cat(category));
static cl::list<std::string>
    inputShapes("input-shape", cl::desc("Set the dimensions of an input: NAME=D0xD1x..., each D a size "
                         "(pinned), '?' (symbolic: the model's symbol, or a new one) or a symbol "
                         "name such as N (symbolic; equal names are equal at run time). "
                         "Symbols contain no 'x': dimensions are separated by it"),
                cl::value_desc("NAME=DIMS"), cl::cat(category));
static cl::list<std::string> inputValues(
    "input-value",
    cl::desc("Fix an input to a value: NAME=V[,V...] (row-major; the input's shape must be "
             "static). It becomes a constant, so computations on it fold (an If on a "
             "sample-rate input becomes its branch) and the artifact no longer takes it"),
    cl::value_desc("NAME=VALUES"), cl::cat(category));
static cl::opt<bool> dynamicInputs(
    "dynamic-inputs",
    cl::desc("Make every dimension of every input not pinned by --input-shape symbolic (one "
             "artifact for all shapes; tests dynamic-shape support)"),
    cl::init(false), cl::cat(category));
static cl::opt<sparq::EmitKind> emit(
    "emit", cl::desc("What to produce"), cl::init(sparq::EmitKind::Lib),
    cl::values(clEnumValN(sparq::EmitKind::ONNX, "onnx", "sparq_onnx IR as imported"),
               clEnumValN(sparq::EmitKind::Compressed, "compressed",
                          "imported IR after weight compression"),
               clEnumValN(sparq::EmitKind::Contract, "contract",
                          "model-contract IR (linalg/tensor/arith/math)"),
               clEnumValN(sparq::EmitKind::LLVM, "llvm", "LLVM dialect IR"),
               clEnumValN(sparq::EmitKind::Obj, "obj", "relocatable object file"),
               clEnumValN(sparq::EmitKind::Lib, "lib", "shared-object model artifact")),
    cl::cat(category));
enum OptLevel { O0 = 0, O1 = 1, O2 = 2, O3 = 3 };
static cl::opt<OptLevel> optLevel(
    cl::desc("Optimization level"), cl::init(O2),
    cl::values(clEnumValN(O0, "O0", "no tiling or vectorization, no LLVM optimization"),
               clEnumValN(O1, "O1", "tiling and vectorization, light LLVM optimization"),
               clEnumValN(O2, "O2", "default"), clEnumValN(O3, "O3", "aggressive")),
    cl::cat(category));
static cl::opt<std::string>
    targetCPU("cpu",
              cl::desc("CPU to generate code for: native (the machine compiling, default), "
                       "x86-64-v2, x86-64-v3 (AVX2), x86-64-v4 (AVX-512) or an LLVM CPU name; "
                       "the artifact records it and refuses to load on a CPU without its "
                       "features"),
              cl::value_desc("CPU"), cl::init("native"), cl::cat(category));
enum class Toggle { Off, On };
static cl::opt<Toggle> blockFusion(
    "block-fusion",
    cl::desc("Compute convolution blocks (residual, inverted residual) as one loop over tiles of "
             "output rows at -O2 and -O3 (sparq-block-fusion; docs/codegen.md)"),
    cl::init(Toggle::On),
    cl::values(clEnumValN(Toggle::On, "on", "fuse (default)"),
               clEnumValN(Toggle::Off, "off", "run every layer on its own")),
    cl::cat(category));
static cl::opt<bool> fusionReport(
    "fusion-report",
    cl::desc("Print what block fusion fused (tile height, intermediates per tile) and which "
             "convolution chains it left alone, and why"),
    cl::init(false), cl::cat(category));
static cl::opt<int64_t> fusionScratchKiB(
    "fusion-scratch-kib",
    cl::desc("Block fusion: budget for one row tile's intermediates in KiB (default 1024, about "
             "half of a 2 MiB L2 cache); tiles are as tall as fit"),
    cl::value_desc("KiB"), cl::init(1024), cl::cat(category));
static cl::opt<bool> fusionKernels(
    "fusion-kernels",
    cl::desc("Block fusion: compute inverted-residual blocks (1x1 -> depthwise -> 1x1) with the "
             "one-pass kernel instead of row tiles (default on; docs/codegen.md)"),
    cl::init(true), cl::cat(category));
static cl::opt<int64_t> fusionMinTiles(
    "fusion-min-tiles",
    cl::desc("Block fusion: fewest row tiles per image, the parallel work for the threads "
             "(default 4)"),
    cl::value_desc("N"), cl::init(4), cl::cat(category));
static cl::opt<bool> profileKernels(
    "profile",
    cl::desc("Time each kernel (fused block, op, compressed-weight kernel) at run time: the "
             "artifact exports its kernel table with flops and bytes, read by sparq-run "
             "--profile (docs/profile.md)"),
    cl::init(false), cl::cat(category));
static cl::opt<std::string> target(
    "target",
    cl::desc("Where the model runs: cpu (default), or cuda[:sm_80|:sm_90] (every op as a GPU "
             "kernel, the artifact launches them through the CUDA driver; default sm_80, whose "
             "code also runs on later GPUs; docs/cuda.md)"),
    cl::value_desc("cpu|cuda[:sm_NN]"), cl::init("cpu"), cl::cat(category));
static cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("CUDA toolkit for --target=cuda: its ptxas and fatbinary assemble the kernels "
             "(default /usr/local/cuda, or $SPARQ_CUDA_PATH)"),
    cl::value_desc("DIR"), cl::init(""), cl::cat(category));
static cl::opt<std::string> gpuPrecision(
    "gpu-precision",
    cl::desc("--target=cuda: what dense (uncompressed) layers with constant weights compute in: "
             "fp32 (default; loop kernels) or fp16 (weights and activations rounded to fp16 on "
             "the tensor cores, fp32 accumulation; docs/cuda.md). Compressed layers always run "
             "on the tensor cores with fp16 activations where a kernel takes their format"),
    cl::value_desc("fp32|fp16"), cl::init("fp32"), cl::cat(category));
static cl::opt<bool> cudaHostEmulation(
    "cuda-host-emulation",
    cl::desc("Test mode for --target=cuda: map the loops to blocks and threads as for the GPU, "
             "then run them on the CPU instead of making kernels (checks the mapping against "
             "reference outputs without a GPU; docs/cuda.md)"),
    cl::init(false), cl::Hidden, cl::cat(category));
static cl::alias targetCPUAlias("target-cpu", cl::desc("Alias for --cpu"),
                                cl::aliasopt(targetCPU), cl::cat(category));

static cl::OptionCategory compressCategory("Weight compression (docs/compression.md)");
static cl::opt<std::string> scheme(
    "scheme",
    cl::desc("Ordered, comma-separated weight formats, e.g. 2:4,w4g128 or mxfp4 (the forms "
             "are listed below)"),
    cl::value_desc("LIST"), cl::cat(compressCategory));
static cl::opt<std::string> sparsity("sparsity",
                                     cl::desc("Shorthand: N:M structured sparsity, e.g. 2:4"),
                                     cl::value_desc("N:M"), cl::cat(compressCategory));
static cl::opt<unsigned> wbits("wbits", cl::desc("Shorthand: quantize weights to B bits (1-8)"),
                               cl::value_desc("B"), cl::init(0), cl::cat(compressCategory));
static cl::opt<int64_t> group("group",
                              cl::desc("Quantization group size along the reduction dimension "
                                       "(0: per channel, -1: per tensor; default 128)"),
                              cl::value_desc("G"), cl::init(128), cl::cat(compressCategory));
static cl::opt<bool> symmetricFlag("symmetric", cl::desc("Symmetric quantization (default)"),
                                   cl::cat(compressCategory));
static cl::opt<bool> asymmetricFlag("asymmetric",
                                    cl::desc("Asymmetric quantization (unsigned codes, zero "
                                             "points)"),
                                    cl::cat(compressCategory));
static cl::opt<unsigned> shiftadd("shiftadd",
                                  cl::desc("Shorthand: shift-add reparameterization with Q binary planes"),
                                  cl::value_desc("Q"), cl::init(0), cl::cat(compressCategory));
static cl::opt<bool> pow2("pow2", cl::desc("Round shift-add scales to powers of two"),
                          cl::cat(compressCategory));
static cl::opt<unsigned> actBits(
    "act-bits",
    cl::desc("8: compressed-weight kernels quantize activations to int8 per weight group at run "
             "time where they can (2-, 4- or 8-bit weights in groups of a multiple of 32; on "
             "CPUs with AVX-512 VBMI and VNNI also shift-add weights and 2:4 + 4-bit weights in "
             "groups of a multiple of 64 kept values); 0: float activations (default)"),
    cl::value_desc("0|8"), cl::init(0), cl::cat(compressCategory));
static cl::opt<bool> rearrange("rearrange-channels",
                               cl::desc("Outlier channel rearrangement before quantization"),
                               cl::cat(compressCategory));
static cl::opt<bool> searchClip("search-clip",
                                cl::desc("Search the error-minimizing clipping range per group"),
                                cl::cat(compressCategory));
static cl::opt<std::string> calibration(
    "calibration",
    cl::desc("Calibration samples: a folder of folders of input_K.pb / input_K.npy (as "
             "sparq-run --inputs reads), or one such folder; the dense model runs on them and "
             "the report gains layer output errors (docs/calibration.md)"),
    cl::value_desc("DIR"), cl::cat(compressCategory));
static cl::opt<std::string> method(
    "method",
    cl::desc("How compressed values are chosen: rtn (data-free, default); with --calibration: "
             "gptq (quantization with error compensation), wanda (N:M pruning by |w|*|x|), "
             "sparsegpt (N:M pruning with compensation; GPTQ for dense quantization), awq "
             "(input channels of MatMul/Gemm layers scaled by their activation magnitude before "
             "quantization)"),
    cl::value_desc("rtn|gptq|wanda|sparsegpt|awq"), cl::init("rtn"), cl::cat(compressCategory));
static cl::opt<double> damp("damp",
                            cl::desc("GPTQ/SparseGPT damping as a fraction of the mean input "
                                     "second moment (default 0.01)"),
                            cl::value_desc("F"), cl::init(0.01), cl::cat(compressCategory));
static cl::opt<double> targetBits(
    "target-bits",
    cl::desc("Choose each layer's scheme from --candidates so that the average bits per weight "
             "(indices, scales and zero points counted) stay within B, by the layers' measured "
             "errors (output errors with --calibration)"),
    cl::value_desc("B"), cl::init(0), cl::cat(compressCategory));
static cl::opt<std::string> candidates(
    "candidates",
    cl::desc("';'-separated scheme lists --target-bits chooses from (default: "
             "w2g32;w3g64;w3g32;w4g128;w4g64;w4g32;w5g32;w6g32;w8g32;2:4,w4g32;2:4,w8g32)"),
    cl::value_desc("LISTS"), cl::cat(compressCategory));
static cl::opt<std::string> only("only",
                                 cl::desc("Compress only layers whose node or weight name "
                                          "matches REGEX"),
                                 cl::value_desc("REGEX"), cl::cat(compressCategory));
static cl::opt<std::string> skip("skip",
                                 cl::desc("Leave layers whose node or weight name matches REGEX "
                                          "dense"),
                                 cl::value_desc("REGEX"), cl::cat(compressCategory));
static cl::opt<std::string> recipe("recipe", cl::desc("Per-layer settings (JSON)"),
                                   cl::value_desc("FILE.json"), cl::cat(compressCategory));
static cl::opt<std::string> reportFile("report",
                                       cl::desc("Write the compression report (with compression "
                                                "settings) and what block fusion fused and left "
                                                "alone, and why, as JSON"),
                                       cl::value_desc("FILE.json"), cl::cat(compressCategory));
static cl::opt<std::string> reportChart(
    "report-chart",
    cl::desc("Draw the compression report as an SVG bar chart: bits per weight and error per "
             "layer (with --calibration: output error beside round-to-nearest's)"),
    cl::value_desc("FILE.svg"), cl::cat(compressCategory));
static cl::opt<std::string> exportDequantized(
    "export-dequantized",
    cl::desc("Write the model with compressed weights expanded back to float32"),
    cl::value_desc("OUT.onnx"), cl::cat(compressCategory));
static cl::opt<bool> quiet("quiet", cl::desc("No progress bar or report table"),
                           cl::cat(compressCategory));

/// The report as a table (to `os`, with compression) and as JSON (to --report), with the
/// block-fusion records.
static bool emitReport(const std::vector<sparq::LayerReport> &report,
                       const std::vector<sparq::FusionRecord> &fusion, bool compressed,
                       raw_ostream &os) {
  double before = 0, after = 0;
  for (const auto &r : report) {
    before += r.bytesBefore;
    after += r.bytesAfter;
  }
  if (!quiet && compressed) {
    bool calibrated = !report.empty() && report.front().outputError >= 0;
    os << format("%-28s %-7s %-11s %-14s %7s %9s %9s %9s %-6s %9s", "layer", "op", "shape",
                 "scheme", "bits/w", "w.err", "S->Q", "Q->S", "perm", "saved");
    if (calibrated)
      os << format(" %-10s %9s %9s", "method", "out.err", "rtn.err");
    os << "\n";
    for (const auto &r : report) {
      std::string shape = std::to_string(r.rows) + "x" + std::to_string(r.k);
      auto opt = [](double v) { return v < 0 ? std::string("-") : formatv("{0:F4}", v).str(); };
      os << format("%-28s %-7s %-11s %-14s %7.3f %9.4f %9s %9s %-6s %9s",
                   r.name.substr(0, 28).c_str(), r.op.c_str(), shape.c_str(), r.scheme.c_str(),
                   r.bitsPerWeight, r.weightError, opt(r.errorPruneThenQuantize).c_str(),
                   opt(r.errorQuantizeThenPrune).c_str(), r.permuted ? "yes" : "no",
                   r.permuted ? opt(r.errorWithoutPermutation - r.weightError).c_str() : "-");
      if (calibrated)
        os << format(" %-10s %9s %9s", (r.method + (r.fellBackToRTN ? "*" : "")).c_str(),
                     opt(r.outputError).c_str(), opt(r.outputErrorRTN).c_str());
      os << "\n";
    }
    os << format("total: %zu layers, %.1f KiB -> %.1f KiB, compression ratio %.2fx, %.3f bits "
                 "per weight\n",
                 report.size(), before / 1024, after / 1024, after > 0 ? before / after : 0.0,
                 before > 0 ? after * 8 / (before / 4) : 0.0);
    if (!report.empty() && !report.front().candidates.empty()) {
      os << "--target-bits: per layer, the candidates (bits/w:error) the choice was made from\n";
      for (const auto &r : report) {
        os << "  " << r.name << ":";
        for (const auto &cand : r.candidates)
          os << " " << (cand.scheme == r.scheme ? "[" : "") << cand.scheme << " "
             << formatv("{0:F2}:{1:F4}", cand.bits, cand.error)
             << (cand.scheme == r.scheme ? "]" : "");
        os << "\n";
      }
    }
    if (calibrated)
      os << "out.err: relative layer output error on the calibration data; rtn.err: the same "
            "for round-to-nearest; *: the method was not better, round-to-nearest kept\n";
  }
  if (!reportChart.empty()) {
    std::error_code ec;
    raw_fd_ostream out(reportChart, ec);
    if (ec) {
      errs() << "sparq-compile: error: " << reportChart << ": " << ec.message() << "\n";
      return false;
    }
    sparq::writeReportChart(report, out);
  }
  if (reportFile.empty())
    return true;
  json::Array layers;
  for (const auto &r : report) {
    json::Object o{{"name", r.name}, {"weight", r.weight}, {"op", r.op},
                   {"shape", json::Array{r.rows, r.k}}, {"scheme", r.scheme},
                   {"bytes_before", r.bytesBefore}, {"bytes_after", r.bytesAfter},
                   {"bits_per_weight", r.bitsPerWeight},
                   {"relative_weight_error", r.weightError},
                   {"permutation_kept", r.permuted}, {"permutation", r.permutation},
                   {"error_without_permutation", r.errorWithoutPermutation},
                   {"error_saved_by_permutation",
                    r.permuted ? r.errorWithoutPermutation - r.weightError : 0.0}};
    if (r.outputError >= 0) {
      o["method"] = r.method;
      o["relative_output_error"] = r.outputError;
      o["relative_output_error_rtn"] = r.outputErrorRTN;
      o["fell_back_to_rtn"] = r.fellBackToRTN;
      if (r.damp > 0)
        o["damp"] = r.damp;
    }
    if (!r.candidates.empty()) {
      json::Array cands;
      for (const auto &cand : r.candidates)
        cands.push_back(json::Object{{"scheme", cand.scheme}, {"bits_per_weight", cand.bits},
                                     {"error", cand.error}});
      o["candidates"] = std::move(cands);
    }
    if (r.errorPruneThenQuantize >= 0) {
      o["error_prune_then_quantize"] = r.errorPruneThenQuantize;
      o["error_quantize_then_prune"] = r.errorQuantizeThenPrune;
    }
    layers.push_back(std::move(o));
  }
  json::Array fused;
  // In program order (the pass finds blocks from the end).
  for (const auto &f : llvm::reverse(fusion)) {
    json::Object o{{"root", f.root}, {"fused", f.fused}};
    if (f.fused) {
      o["kind"] = f.kind;
      o["ops"] = f.ops;
      o["names"] = f.names;
      o["tile_rows"] = f.tileRows;
      o["tile_bytes"] = f.tileBytes;
      if (!f.kernelSkipped.empty())
        o["kernel_skipped"] = f.kernelSkipped;
    } else {
      o["reason"] = f.reason;
    }
    fused.push_back(std::move(o));
  }
  json::Object root{{"layers", std::move(layers)},
                    {"fusion", std::move(fused)},
                    {"total", json::Object{{"bytes_before", before},
                                           {"bytes_after", after},
                                           {"compression_ratio", after > 0 ? before / after : 0.0},
                                           {"bits_per_weight", before > 0 ? after * 8 / (before / 4) : 0.0}}}};
  std::error_code ec;
  raw_fd_ostream out(reportFile, ec);
  if (ec) {
    errs() << "sparq-compile: error: " << reportFile << ": " << ec.message() << "\n";
    return false;
  }
  out << formatv("{0:2}", json::Value(std::move(root))) << "\n";
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // Only internal errors crash; say so instead of LLVM's own "submit a bug report" text.
  llvm::setBugReportMsg("sparq-compile crashed: this is a bug in sparq, not a problem with the "
                        "model; please report it with the command line and the stack dump "
                        "below.\n");
  cl::HideUnrelatedOptions({&category, &compressCategory});
  auto context = sparq::createCompilerContext();
  // --help lists the scheme forms of every registered scheme dialect.
  static std::string schemeHelp = scheme.HelpStr.str() + ":\n" +
                                  sparq::weight::describeSchemeTokens(context.get());
  scheme.setDescription(schemeHelp);
  cl::ParseCommandLineOptions(argc, argv, "sparq ONNX model compiler\n");

  bool hadError = false;
  mlir::ScopedDiagnosticHandler handler(context.get(), [&](mlir::Diagnostic &diag) {
    std::string where;
    if (auto fileLoc = mlir::dyn_cast<mlir::FileLineColLoc>(diag.getLocation()))
      where = fileLoc.getFilename().str();
    else if (auto nameLoc = mlir::dyn_cast<mlir::NameLoc>(diag.getLocation()))
      if (auto inner = mlir::dyn_cast<mlir::FileLineColLoc>(nameLoc.getChildLoc()))
        where = inner.getFilename().str();
    const char *sev = diag.getSeverity() == mlir::DiagnosticSeverity::Error     ? "error"
                      : diag.getSeverity() == mlir::DiagnosticSeverity::Warning ? "warning"
                                                                                : "note";
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      hadError = true;
    errs() << "sparq-compile: " << sev << ": " << (where.empty() ? "" : where + ": ")
           << diag.str() << "\n";
    return mlir::success();
  });

  sparq::CompileOptions options;
  options.inputPath = inputFile;
  options.outputPath = outputFile;
  options.inputShapes.assign(inputShapes.begin(), inputShapes.end());
  options.inputValues.assign(inputValues.begin(), inputValues.end());
  options.dynamicInputs = dynamicInputs;
  options.emit = emit;
  options.optLevel = optLevel;
  options.targetCPU = targetCPU;
  options.target = target;
  options.cudaHostEmulation = cudaHostEmulation;
  options.gpuPrecision = gpuPrecision;
  if (gpuPrecision.getNumOccurrences() && !StringRef(target).starts_with("cuda")) {
    errs() << "sparq-compile: error: --gpu-precision needs --target=cuda\n";
    return 1;
  }
  if (cudaHostEmulation && !StringRef(target).starts_with("cuda")) {
    errs() << "sparq-compile: error: --cuda-host-emulation needs --target=cuda\n";
    return 1;
  }
  if (!cudaPath.empty())
    options.cudaPath = cudaPath;
  else if (const char *env = std::getenv("SPARQ_CUDA_PATH"); env && *env)
    options.cudaPath = env;
  options.blockFusion = blockFusion == Toggle::On;
  options.fusionReport = fusionReport;
  options.profile = profileKernels;
  if (fusionScratchKiB < 1 || fusionMinTiles < 1) {
    errs() << "sparq-compile: error: --fusion-scratch-kib and --fusion-min-tiles must be at "
              "least 1\n";
    return 1;
  }
  options.fusionScratchKiB = fusionScratchKiB;
  options.fusionMinTiles = fusionMinTiles;
  options.fusionKernels = fusionKernels;
  if (actBits != 0 && actBits != 8) {
    errs() << "sparq-compile: error: --act-bits must be 0 or 8, got " << actBits << "\n";
    return 1;
  }
  options.actBits = actBits;
  if (symmetricFlag && asymmetricFlag) {
    errs() << "sparq-compile: error: --symmetric and --asymmetric are mutually exclusive\n";
    return 1;
  }
  sparq::CompressionOptions &c = options.compression;
  if (!scheme.empty() && (!sparsity.empty() || wbits || shiftadd)) {
    errs() << "sparq-compile: error: --scheme replaces --sparsity, --wbits and --shiftadd; give "
              "one or the other\n";
    return 1;
  }
  c.defaults.scheme = scheme;
  c.defaults.sparsity = sparsity;
  c.defaults.wbits = wbits;
  c.defaults.group = group;
  c.defaults.symmetric = !asymmetricFlag;
  c.defaults.shiftadd = shiftadd;
  c.defaults.pow2 = pow2;
  c.defaults.rearrange = rearrange;
  c.defaults.searchClip = searchClip;
  c.defaults.method = method;
  if (!(damp > 0 && damp < 1e6)) {
    errs() << "sparq-compile: error: --damp must be a positive number, got " << damp << "\n";
    return 1;
  }
  c.damp = damp;
  if (targetBits < 0 || (targetBits > 0 && (!scheme.empty() || !sparsity.empty() || wbits ||
                                            shiftadd))) {
    errs() << "sparq-compile: error: --target-bits must be positive and replaces --scheme, "
              "--sparsity, --wbits and --shiftadd\n";
    return 1;
  }
  if (!candidates.empty() && targetBits <= 0) {
    errs() << "sparq-compile: error: --candidates needs --target-bits\n";
    return 1;
  }
  c.targetBits = targetBits;
  c.candidates = candidates;
  options.calibrationDir = calibration;
  c.only = only;
  c.skip = skip;
  c.recipe = recipe;
  options.exportDequantizedPath = exportDequantized;
  std::vector<sparq::LayerReport> report;
  options.report = &report;
  std::vector<sparq::FusionRecord> fusion;
  if (!reportFile.empty())
    options.fusion = &fusion;
  bool bar = !quiet && sys::Process::StandardErrIsDisplayed();
  if (bar)
    options.progress = [](size_t done, size_t total, StringRef name) {
      const int width = 30;
      int filled = total ? (int)(width * done / total) : width;
      errs() << "\rcompressing [" << std::string(filled, '#') << std::string(width - filled, ' ')
             << "] " << done << "/" << total << " " << left_justify(name.take_front(32), 32);
      if (done == total)
        errs() << "\n";
    };
  if (bar)
    options.calibrationProgress = [](size_t done, size_t total) {
      const int width = 30;
      int filled = total ? (int)(width * done / total) : width;
      errs() << "\rcalibrating [" << std::string(filled, '#') << std::string(width - filled, ' ')
             << "] " << done << "/" << total << " samples";
      if (done == total)
        errs() << "\n";
    };
  if ((!reportChart.empty() || !exportDequantized.empty()) && !c.enabled()) {
    errs() << "sparq-compile: error: --report-chart and --export-dequantized need compression "
              "settings (--scheme, --sparsity, --wbits, --shiftadd or --recipe)\n";
    return 1;
  }
  if (mlir::failed(sparq::compileModel(options, *context)) || hadError) {
    if (!hadError)
      errs() << "sparq-compile: error: " << inputFile << ": compilation failed\n";
    return 1;
  }
  if ((c.enabled() || !reportFile.empty()) &&
      !emitReport(report, fusion, c.enabled(), outputFile == "-" ? errs() : outs()))
    return 1;
  return 0;
}
