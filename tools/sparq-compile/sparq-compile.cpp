//===- tools/sparq-compile/sparq-compile.cpp - the compiler driver -------------===//
//
//   sparq-compile MODEL.onnx -o MODEL.so [--input-shape NAME=DIMS]...
//                 [--emit=onnx|contract|llvm|obj|lib] [-O0..-O3]
//
// Errors are printed as one line each: `sparq-compile: error: FILE: MESSAGE`; exit code 1.
//
//===----------------------------------------------------------------------===//
#include "sparq/Compiler/Compile.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory category("sparq-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx | module.mlir>"), cl::Required,
                                      cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::Required, cl::cat(category));
static cl::list<std::string>
    inputShapes("input-shape", cl::desc("Pin the dimensions of an input: NAME=D0xD1x..."),
                cl::value_desc("NAME=DIMS"), cl::cat(category));
static cl::opt<sparq::EmitKind> emit(
    "emit", cl::desc("What to produce"), cl::init(sparq::EmitKind::Lib),
    cl::values(clEnumValN(sparq::EmitKind::ONNX, "onnx", "sparq_onnx IR as imported"),
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
static cl::opt<std::string> targetCPU("target-cpu",
                                      cl::desc("CPU to generate code for (default: host)"),
                                      cl::init("host"), cl::cat(category));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "sparq ONNX model compiler\n");

  auto context = sparq::createCompilerContext();
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
  options.emit = emit;
  options.optLevel = optLevel;
  options.targetCPU = targetCPU;
  if (mlir::failed(sparq::compileModel(options, *context)) || hadError) {
    if (!hadError)
      errs() << "sparq-compile: error: " << inputFile << ": compilation failed\n";
    return 1;
  }
  return 0;
}
