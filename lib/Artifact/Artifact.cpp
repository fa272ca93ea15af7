//===- lib/Artifact/Artifact.cpp - ABI entry points and shared-object linking --===//
#include "lib/Artifact/Artifact.h"

#include "sparq/Formats/ArtifactDigest.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <unistd.h>

namespace sparq {

namespace {

/// Adds `const char *name(void)` returning `text` (a private constant `globalName`).
void addTextFunction(llvm::Module &module, llvm::StringRef name, llvm::StringRef text,
                     llvm::StringRef globalName) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *data = llvm::ConstantDataArray::getString(ctx, text, /*AddNull=*/true);
  auto *global = new llvm::GlobalVariable(module, data->getType(), /*isConstant=*/true,
                                          llvm::GlobalValue::PrivateLinkage, data, globalName);
  auto *fn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::PointerType::getUnqual(ctx), false),
      llvm::GlobalValue::ExternalLinkage, name, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  b.CreateRet(global);
}

} // namespace

llvm::Error addArtifactABI(llvm::Module &module, llvm::StringRef entryName,
                           llvm::StringRef signature, unsigned numInputs,
                           llvm::StringRef cpuText, llvm::StringRef profileTable) {
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
  addTextFunction(module, "sparq_model_signature_v1", signature, "sparq_signature_text");
  // const char *sparq_model_cpu_v1(void): "CPU FEATURE..." the code was generated for.
  addTextFunction(module, "sparq_model_cpu_v1", cpuText, "sparq_cpu_text");

  // static void sparq_invoke_body(void **args): unpacks the argument array for the C interface.
  auto *bodyFn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false),
      llvm::GlobalValue::InternalLinkage, "sparq_invoke_body", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", bodyFn));
  llvm::Value *args = bodyFn->getArg(0);
  llvm::SmallVector<llvm::Value *> callArgs;
  for (unsigned i = 0; i <= numInputs; ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, args, i);
    callArgs.push_back(b.CreateLoad(ptrTy, slot));
  }
  b.CreateCall(ciface, callArgs);
  b.CreateRetVoid();

  // int32_t sparq_model_invoke_v2(void **args, char *error, int64_t error_size): the body under
  // the run-time error channel (runtime/kernels/Checks.cpp).
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *invokeTy = llvm::FunctionType::get(i32, {ptrTy, ptrTy, i64}, false);
  auto *invokeFn = llvm::Function::Create(invokeTy, llvm::GlobalValue::ExternalLinkage,
                                          "sparq_model_invoke_v2", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", invokeFn));
  auto *voidFnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), false);
  b.CreateCall(module.getOrInsertFunction("sparq_uk_memory_begin", voidFnTy));
  llvm::FunctionCallee checked = module.getOrInsertFunction(
      "sparq_uk_invoke_checked", llvm::FunctionType::get(i32, {ptrTy, ptrTy, ptrTy, i64}, false));
  b.CreateRet(b.CreateCall(checked, {bodyFn, invokeFn->getArg(0), invokeFn->getArg(1),
                                     invokeFn->getArg(2)}));

  // int64_t sparq_model_peak_bytes_v1(void): peak bytes of buffers during the last invocation.
  auto *peakFn = llvm::Function::Create(llvm::FunctionType::get(i64, false),
                                        llvm::GlobalValue::ExternalLinkage,
                                        "sparq_model_peak_bytes_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", peakFn));
  b.CreateRet(b.CreateCall(
      module.getOrInsertFunction("sparq_uk_memory_peak", llvm::FunctionType::get(i64, false))));

  // void sparq_model_release_v1(void *block): an output block the caller is done with goes back
  // to the artifact's allocator cache (runtime/kernels/Alloc.cpp), so the next invocation
  // writes its output into warm memory instead of fresh pages.
  auto *releaseTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false);
  llvm::FunctionCallee freeFn = module.getOrInsertFunction("_mlir_memref_to_llvm_free", releaseTy);
  auto *releaseFn = llvm::Function::Create(releaseTy, llvm::GlobalValue::ExternalLinkage,
                                           "sparq_model_release_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", releaseFn));
  b.CreateCall(freeFn, {releaseFn->getArg(0)});
  b.CreateRetVoid();

  // void sparq_model_set_num_threads_v1(int n): the thread count of later invocations (the
  // artifact's own pool, runtime/kernels/Parallel.cpp).
  auto *voidTy = llvm::Type::getVoidTy(ctx);
  llvm::FunctionCallee ompSet = module.getOrInsertFunction(
      "sparq_uk_set_num_threads", llvm::FunctionType::get(voidTy, {i32}, false));
  auto *threadsFn = llvm::Function::Create(llvm::FunctionType::get(voidTy, {i32}, false),
                                           llvm::GlobalValue::ExternalLinkage,
                                           "sparq_model_set_num_threads_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", threadsFn));
  b.CreateCall(ompSet, {threadsFn->getArg(0)});
  b.CreateRetVoid();

  // void sparq_model_release_strings_v1(void): frees the strings the calling thread's last
  // invocation made (runtime/kernels/Strings.cpp), once the runtime has copied its string
  // outputs.
  auto *releaseStringsFn = llvm::Function::Create(llvm::FunctionType::get(voidTy, false),
                                                  llvm::GlobalValue::ExternalLinkage,
                                                  "sparq_model_release_strings_v1", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", releaseStringsFn));
  b.CreateCall(module.getOrInsertFunction("sparq_uk_str_arena_reset", voidFnTy));
  b.CreateRetVoid();

  if (!profileTable.empty()) {
    // const char *sparq_model_profile_v1(void): the kernel table.
    addTextFunction(module, "sparq_model_profile_v1", profileTable, "sparq_profile_text");
    // void sparq_model_profile_read_v1(int64_t *out, int64_t count, int32_t reset): the
    // kernels' (nanoseconds, calls), runtime/kernels/Profile.cpp.
    auto *readTy = llvm::FunctionType::get(voidTy, {ptrTy, i64, i32}, false);
    llvm::FunctionCallee read = module.getOrInsertFunction("sparq_uk_profile_read", readTy);
    auto *readFn = llvm::Function::Create(readTy, llvm::GlobalValue::ExternalLinkage,
                                          "sparq_model_profile_read_v1", module);
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", readFn));
    b.CreateCall(read, {readFn->getArg(0), readFn->getArg(1), readFn->getArg(2)});
    b.CreateRetVoid();
  }

  // The content digest's note (include/sparq/Formats/ArtifactDigest.h), zero until
  // linkSharedObject stamps the linked file.
  digest::DigestNote note;
  auto *noteData = llvm::ConstantDataArray::getRaw(
      llvm::StringRef(reinterpret_cast<const char *>(&note), sizeof note), sizeof note,
      llvm::Type::getInt8Ty(ctx));
  auto *noteGlobal = new llvm::GlobalVariable(module, noteData->getType(), /*isConstant=*/true,
                                              llvm::GlobalValue::PrivateLinkage, noteData,
                                              "sparq_digest_note");
  noteGlobal->setSection(digest::kNoteSection);
  noteGlobal->setAlignment(llvm::Align(4));
  llvm::appendToCompilerUsed(module, {noteGlobal});
  return llvm::Error::success();
}

namespace {

/// Writes the digest into the note of the linked artifact at `path`.
llvm::Error stampDigest(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError("cannot read '" + path.str() + "': " +
                                   buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  auto elf = llvm::object::ELF64LEFile::create(bytes);
  if (!elf)
    return elf.takeError();
  auto phdrs = elf->program_headers();
  if (!phdrs)
    return phdrs.takeError();
  std::optional<uint64_t> descOffset;
  for (const auto &ph : *phdrs) {
    if (ph.p_type != llvm::ELF::PT_NOTE)
      continue;
    llvm::Error err = llvm::Error::success();
    for (const auto &n : elf->notes(ph, err))
      if (n.getName() == digest::kNoteOwner && n.getType() == digest::kDigestNoteType &&
          n.getDesc(ph.p_align).size() == digest::kDigestBytes)
        descOffset = uint64_t(n.getDesc(ph.p_align).data() - bytes.bytes_begin());
    if (err)
      return err;
  }
  if (!descOffset)
    return llvm::createStringError("the linked artifact has no " +
                                   std::string(digest::kNoteSection) + " note");
  digest::Hasher hasher(*descOffset);
  hasher.update(bytes.data(), bytes.size(), 0);
  uint8_t value[digest::kDigestBytes];
  hasher.finish(value);
  int fd;
  if (std::error_code ec = llvm::sys::fs::openFileForReadWrite(
          path, fd, llvm::sys::fs::CD_OpenExisting, llvm::sys::fs::OF_None))
    return llvm::createStringError("cannot open '" + path.str() + "': " + ec.message());
  ssize_t written = ::pwrite(fd, value, sizeof value, off_t(*descOffset));
  int err = errno;
  ::close(fd);
  if (written != ssize_t(sizeof value))
    return llvm::createStringError("cannot write the digest into '" + path.str() +
                                   "': " + std::strerror(err));
  return llvm::Error::success();
}

} // namespace

std::string defaultLinker() {
  if (const char *env = std::getenv("SPARQ_LINKER"))
    return env;
  return SPARQ_DEFAULT_LINKER;
}

namespace {

/// A temporary object file `stem-XXXXXXXX.o` in $TMPDIR.
llvm::Expected<llvm::sys::fs::TempFile> createTempObject(llvm::StringRef stem) {
  llvm::SmallString<128> model;
  llvm::sys::path::system_temp_directory(/*erasedOnReboot=*/true, model);
  llvm::sys::path::append(model, stem + "-%%%%%%%%.o");
  llvm::Expected<llvm::sys::fs::TempFile> file = llvm::sys::fs::TempFile::create(model);
  if (!file)
    return llvm::createStringError("cannot create a temporary object file: " +
                                   llvm::toString(file.takeError()));
  return file;
}

} // namespace

llvm::Expected<llvm::sys::fs::TempFile>
writeWeightObjectFile(llvm::ArrayRef<ExternalWeight> weights, uint16_t machine) {
  llvm::Expected<llvm::sys::fs::TempFile> file = createTempObject("sparq-weights");
  if (!file)
    return file.takeError();
  llvm::raw_fd_ostream os(file->FD, /*shouldClose=*/false);
  llvm::Error err = writeWeightObject(weights, machine, os);
  os.flush();
  if (!err && os.has_error())
    err = llvm::createStringError("cannot write temporary object file '" + file->TmpName +
                                  "': " + os.error().message());
  if (err) {
    llvm::consumeError(file->discard());
    return std::move(err);
  }
  return std::move(*file);
}

llvm::Error linkSharedObject(llvm::StringRef objectBytes, llvm::StringRef outputPath,
                             llvm::StringRef linker, llvm::ArrayRef<std::string> extraObjects) {
  auto program = llvm::sys::findProgramByName(linker);
  if (!program)
    return llvm::createStringError("linker '" + linker.str() +
                                   "' not found (set SPARQ_LINKER to a cc-compatible driver)");
  // The object goes to $TMPDIR, the linked artifact to a temporary file next to the output,
  // renamed over it only once the link succeeded: a failed or killed compile never leaves a
  // partial artifact at the output path, and both temporaries are removed on SIGINT/SIGTERM
  // (LLVM's signal handlers) and on every error path.
  llvm::Expected<llvm::sys::fs::TempFile> obj = createTempObject("sparq");
  if (!obj)
    return obj.takeError();
  llvm::Expected<llvm::sys::fs::TempFile> lib =
      llvm::sys::fs::TempFile::create(outputPath + ".tmp-%%%%%%%%");
  if (!lib) {
    llvm::consumeError(obj->discard());
    return llvm::createStringError("cannot create a temporary file next to '" +
                                   outputPath.str() + "': " + llvm::toString(lib.takeError()));
  }
  auto discardBoth = [&](llvm::Error err) -> llvm::Error {
    llvm::consumeError(obj->discard());
    llvm::consumeError(lib->discard());
    return err;
  };
  {
    llvm::raw_fd_ostream os(obj->FD, /*shouldClose=*/false);
    os << objectBytes;
    os.flush();
    if (os.has_error())
      return discardBoth(llvm::createStringError("cannot write temporary object file '" +
                                                 obj->TmpName + "': " + os.error().message()));
  }
  // The artifact needs only libc (with its threads) and libm; every other symbol is defined
  // inside it (-z defs turns a missing one into a link error instead of a load failure).
  std::string tmpOut = lib->TmpName, objName = obj->TmpName;
  llvm::SmallVector<llvm::StringRef> argv = {*program, "-shared",     "-o",       tmpOut,
                                             objName,  "-Wl,-z,defs", "-pthread", "-lm"};
  for (const std::string &extra : extraObjects)
    argv.push_back(extra);
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(*program, argv, std::nullopt, {}, 0, 0, &errMsg);
  if (rc != 0)
    return discardBoth(llvm::createStringError(
        "linking '" + outputPath.str() + "' with '" + *program + "' failed (exit " +
        std::to_string(rc) + (errMsg.empty() ? "" : ": " + errMsg) + ")"));
  llvm::consumeError(obj->discard());
  if (llvm::Error err = stampDigest(tmpOut))
    return discardBoth(llvm::createStringError("cannot stamp the digest of '" +
                                               outputPath.str() + "': " +
                                               llvm::toString(std::move(err))));
  if (llvm::Error err = lib->keep(outputPath)) {
    std::string msg = llvm::toString(std::move(err));
    llvm::consumeError(lib->discard());
    return llvm::createStringError("cannot write '" + outputPath.str() + "': " + msg);
  }
  return llvm::Error::success();
}

} // namespace sparq
