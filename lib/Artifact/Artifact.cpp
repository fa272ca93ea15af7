//===- lib/Artifact/Artifact.cpp - ABI entry points and shared-object linking --===//
#include "lib/Artifact/Artifact.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace sparq {

llvm::Error addArtifactABI(llvm::Module &module, llvm::StringRef entryName,
                           llvm::StringRef signature, unsigned numInputs,
                           llvm::StringRef cpuText) {
  llvm::LLVMContext &ctx = module.getContext();
  std::string cifaceName = ("_mlir_ciface_" + entryName).str();
  llvm::Function *ciface = module.getFunction(cifaceName);
  if (!ciface)
    return llvm::createStringError("the lowered module has no C interface function '" + cifaceName +
                                   "'");
  if (ciface->arg_size() != numInputs + 1)
    return llvm::createStringError("'" + cifaceName + "' takes " +
                                   std::to_string(ciface->arg_size()) +
                                   " arguments, expected one results pointer and " +
                                   std::to_string(numInputs) + " input descriptors");

  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  llvm::IRBuilder<> b(ctx);

  // const char *sparq_model_signature_v1(void)
  auto *sigData = llvm::ConstantDataArray::getString(ctx, signature, /*AddNull=*/true);
  auto *sigGlobal = new llvm::GlobalVariable(module, sigData->getType(), /*isConstant=*/true,
                                             llvm::GlobalValue::PrivateLinkage, sigData,
                                             "sparq_signature_text");
  auto *sigFn = llvm::Function::Create(llvm::FunctionType::get(ptrTy, false),
                                       llvm::GlobalValue::ExternalLinkage,
                                       "sparq_model_signature_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", sigFn));
  b.CreateRet(sigGlobal);

  // const char *sparq_model_cpu_v1(void): "CPU FEATURE..." the code was generated for.
  auto *cpuData = llvm::ConstantDataArray::getString(ctx, cpuText, /*AddNull=*/true);
  auto *cpuGlobal = new llvm::GlobalVariable(module, cpuData->getType(), /*isConstant=*/true,
                                             llvm::GlobalValue::PrivateLinkage, cpuData,
                                             "sparq_cpu_text");
  auto *cpuFn = llvm::Function::Create(llvm::FunctionType::get(ptrTy, false),
                                       llvm::GlobalValue::ExternalLinkage, "sparq_model_cpu_v1",
                                       module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", cpuFn));
  b.CreateRet(cpuGlobal);

  // void sparq_model_invoke_v1(void **args)
  auto *invokeFn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false),
      llvm::GlobalValue::ExternalLinkage, "sparq_model_invoke_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", invokeFn));
  auto *voidFnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), false);
  b.CreateCall(module.getOrInsertFunction("sparq_uk_memory_begin", voidFnTy));
  llvm::Value *args = invokeFn->getArg(0);
  llvm::SmallVector<llvm::Value *> callArgs;
  for (unsigned i = 0; i <= numInputs; ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, args, i);
    callArgs.push_back(b.CreateLoad(ptrTy, slot));
  }
  b.CreateCall(ciface, callArgs);
  b.CreateRetVoid();

  // int64_t sparq_model_peak_bytes_v1(void): peak bytes of buffers during the last invocation.
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *peakFn = llvm::Function::Create(llvm::FunctionType::get(i64, false),
                                        llvm::GlobalValue::ExternalLinkage,
                                        "sparq_model_peak_bytes_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", peakFn));
  b.CreateRet(b.CreateCall(
      module.getOrInsertFunction("sparq_uk_memory_peak", llvm::FunctionType::get(i64, false))));

  // void sparq_model_set_num_threads_v1(int n): the thread count of later invocations (the
  // artifact's own pool, runtime/kernels/Parallel.cpp).
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *voidTy = llvm::Type::getVoidTy(ctx);
  llvm::FunctionCallee ompSet = module.getOrInsertFunction(
      "sparq_uk_set_num_threads", llvm::FunctionType::get(voidTy, {i32}, false));
  auto *threadsFn = llvm::Function::Create(llvm::FunctionType::get(voidTy, {i32}, false),
                                           llvm::GlobalValue::ExternalLinkage,
                                           "sparq_model_set_num_threads_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", threadsFn));
  b.CreateCall(ompSet, {threadsFn->getArg(0)});
  b.CreateRetVoid();
  return llvm::Error::success();
}

std::string defaultLinker() {
  if (const char *env = std::getenv("SPARQ_LINKER"))
    return env;
  return SPARQ_DEFAULT_LINKER;
}

llvm::Error linkSharedObject(llvm::StringRef objectBytes, llvm::StringRef outputPath,
                             llvm::StringRef linker) {
  llvm::SmallString<128> objPath;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("sparq", "o", fd, objPath))
    return llvm::createStringError("cannot create a temporary object file: " + ec.message());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << objectBytes;
    if (os.has_error())
      return llvm::createStringError("cannot write temporary object file '" + objPath.str().str() +
                                     "'");
  }
  auto program = llvm::sys::findProgramByName(linker);
  if (!program) {
    llvm::sys::fs::remove(objPath);
    return llvm::createStringError("linker '" + linker.str() +
                                   "' not found (set SPARQ_LINKER to a cc-compatible driver)");
  }
  std::string out = outputPath.str();
  std::string obj = objPath.str().str();
  // The artifact needs only libc (with its threads) and libm; every other symbol is defined
  // inside it (-z defs turns a missing one into a link error instead of a load failure).
  llvm::SmallVector<llvm::StringRef> argv = {*program, "-shared",     "-o",       out,
                                             obj,      "-Wl,-z,defs", "-pthread", "-lm"};
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(*program, argv, std::nullopt, {}, 0, 0, &errMsg);
  llvm::sys::fs::remove(objPath);
  if (rc != 0)
    return llvm::createStringError("linking '" + out + "' with '" + *program + "' failed (exit " +
                                   std::to_string(rc) + (errMsg.empty() ? "" : ": " + errMsg) +
                                   ")");
  return llvm::Error::success();
}

} // namespace sparq
