//===- runtime/src/Model.cpp - loading and running artifacts ------*- C++ -*-===//
//
// sparq_model_* (validate and dlopen an artifact, parse its signature) and sparq_session_*
// (bind inputs, check them against the signature, call sparq_model_invoke_v2, copy the outputs
// out of the memref descriptors the model returns and free the model's buffers).
//
//===----------------------------------------------------------------------===//
#include "ArtifactCheck.h"
#include "CpuFeatures.h"
#include "Internal.h"
#include "Profile.h"
#include "Signature.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <map>
#include <set>

using namespace sparq::runtime;

using SignatureFn = const char *(*)();
using InvokeFn = int32_t (*)(void **, char *, int64_t);
using SetNumThreadsFn = void (*)(int);
using PeakBytesFn = int64_t (*)();
using ProfileReadFn = void (*)(int64_t *, int64_t, int32_t);
using ReleaseFn = void (*)(void *);

struct sparq_model_s {
  std::atomic<int> references{1};
  void *handle = nullptr;
  std::string path;
  Signature signature;
  InvokeFn invoke = nullptr;
  SetNumThreadsFn setNumThreads = nullptr;
  PeakBytesFn peakBytes = nullptr;
  /// Optional: gives an output buffer back to the artifact's allocator for its next run.
  ReleaseFn release = nullptr;
  /// Optional: frees the strings the calling thread's last run made (once they are copied).
  void (*releaseStrings)() = nullptr;
  /// Profiled artifacts: the kernel table, the timers' reader and the last read.
  std::vector<sparq::runtime::KernelInfo> kernelInfo;
  ProfileReadFn profileRead = nullptr;
  std::vector<int64_t> profileCounters;
  std::vector<sparq_kernel_profile_t> profile;
};

struct sparq_session_s {
  sparq_model_t *model = nullptr;
  std::vector<const sparq_tensor_t *> inputs;
  std::vector<sparq_tensor_t *> outputs; ///< owned; NULL once taken
  std::vector<bool> taken;
  bool haveOutputs = false;
};

namespace {

void retainModel(sparq_model_t *model) { model->references.fetch_add(1); }

void releaseModel(sparq_model_t *model) {
  if (model->references.fetch_sub(1) != 1)
    return;
  if (model->handle)
    dlclose(model->handle);
  delete model;
}

sparq_status_t outOfMemory(const char *where) {
  return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, std::string(where) + ": out of memory");
}

sparq_status_t nullArgument(const char *where, const char *what) {
  return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT, std::string(where) + ": " + what + " is NULL");
}

std::string describeTensor(const char *kind, const TensorSpec &spec, size_t index) {
  return std::string(kind) + " '" + spec.name + "' (#" + std::to_string(index) + ")";
}

void fillInfo(const TensorSpec &spec, sparq_tensor_info_t *info) {
  info->name = spec.name.c_str();
  info->element_type = spec.type;
  info->rank = int64_t(spec.dims.size());
  info->dims = spec.dims.data();
}

sparq_status_t findByName(const sparq_model_t *model, const std::vector<TensorSpec> &specs,
                          const char *kind, const char *name, size_t *out_index) {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name == name) {
      *out_index = i;
      return nullptr;
    }
  }
  std::string known;
  for (const TensorSpec &spec : specs)
    known += (known.empty() ? "'" : ", '") + spec.name + "'";
  return makeStatus(SPARQ_STATUS_NOT_FOUND,
                    "model '" + model->path + "' has no " + kind + " named '" + name + "' (" +
                        kind + "s: " + (known.empty() ? std::string("none") : known) + ")");
}

/// Checks `tensor` against input `index` of the signature.
sparq_status_t checkInput(const sparq_model_t *model, size_t index,
                          const sparq_tensor_t *tensor) {
  const TensorSpec &spec = model->signature.inputs[index];
  std::string what = describeTensor("input", spec, index);
  if (tensor->type != spec.type)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      what + ": expected element type " + sparq_element_type_name(spec.type) +
                          ", got " + sparq_element_type_name(tensor->type));
  if (tensor->dims.size() != spec.dims.size())
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      what + ": expected shape " + formatShape(spec.dims) + " (rank " +
                          std::to_string(spec.dims.size()) + "), got " +
                          formatShape(tensor->dims) + " (rank " +
                          std::to_string(tensor->dims.size()) + ")");
  for (size_t d = 0; d < spec.dims.size(); ++d)
    if (spec.dims[d] != -1 && spec.dims[d] != tensor->dims[d])
      return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                        what + ": expected shape " + formatShape(spec.dims) + ", got " +
                            formatShape(tensor->dims));
  return nullptr;
}

/// Copies `count` elements of size ES from a strided source run into `dst`.
template <size_t ES>
void copyRun(char *dst, const char *src, int64_t count, int64_t stride) {
  for (int64_t j = 0; j < count; ++j)
    std::memcpy(dst + j * int64_t(ES), src + j * stride * int64_t(ES), ES);
}

/// Copies a strided view into a contiguous row-major buffer.
void copyStrided(char *dst, const char *base, size_t elementSize, const int64_t *sizes,
                 const int64_t *strides, size_t rank) {
  if (rank == 0) {
    std::memcpy(dst, base, elementSize);
    return;
  }
  // Contiguous row-major strides: one memcpy.
  bool contiguous = true;
  int64_t expected = 1;
  for (size_t d = rank; d-- > 0;) {
    if (sizes[d] != 1 && strides[d] != expected)
      contiguous = false;
    expected *= sizes[d];
  }
  if (contiguous) {
    std::memcpy(dst, base, size_t(expected) * elementSize);
    return;
  }
  int64_t inner = sizes[rank - 1];
  int64_t innerStride = strides[rank - 1];
  std::vector<int64_t> index(rank - 1, 0);
  while (true) {
    int64_t offset = 0;
    for (size_t d = 0; d + 1 < rank; ++d)
      offset += index[d] * strides[d];
    const char *src = base + offset * int64_t(elementSize);
    switch (elementSize) {
    case 1: copyRun<1>(dst, src, inner, innerStride); break;
    case 2: copyRun<2>(dst, src, inner, innerStride); break;
    case 4: copyRun<4>(dst, src, inner, innerStride); break;
    default: copyRun<8>(dst, src, inner, innerStride); break;
    }
    dst += inner * int64_t(elementSize);
    // Advance the odometer over the outer dimensions.
    size_t d = rank - 1;
    while (d > 0) {
      --d;
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
      if (d == 0)
        return;
    }
    if (rank == 1)
      return;
  }
}

void clearOutputs(sparq_session_t *session) {
  for (sparq_tensor_t *&tensor : session->outputs) {
    sparq_tensor_destroy(tensor);
    tensor = nullptr;
  }
  session->haveOutputs = false;
}

/// Whether `sizes`/`strides` describe a contiguous row-major layout.
bool isRowMajor(const int64_t *sizes, const int64_t *strides, size_t rank) {
  int64_t expected = 1;
  for (size_t d = rank; d-- > 0;) {
    if (sizes[d] != 1 && strides[d] != expected)
      return false;
    expected *= sizes[d];
  }
  return true;
}

/// Reads output `k`'s descriptor at `words` into a new tensor: the model's own buffer when it
/// is contiguous and `adopt` (the block is then the tensor's, released by it), else a copy. A
/// string output is always copied, strings included: its elements point into the artifact's
/// per-thread string arena, valid only until the model's next call on this thread.
sparq_status_t collectOutput(const sparq_model_t *model, size_t k, const int64_t *words,
                             bool adopt, sparq_tensor_t **out) {
  const TensorSpec &spec = model->signature.outputs[k];
  size_t rank = spec.dims.size();
  void *aligned;
  std::memcpy(&aligned, &words[1], sizeof(void *));
  int64_t offset = words[2];
  const int64_t *sizes = words + 3;
  const int64_t *strides = words + 3 + rank;
  std::string what = describeTensor("output", spec, k);
  std::vector<int64_t> dims(sizes, sizes + rank);
  for (size_t d = 0; d < rank; ++d)
    if (sizes[d] < 0)
      return makeStatus(SPARQ_STATUS_INTERNAL,
                        "model '" + model->path + "' broke the artifact ABI: " + what +
                            " has negative size " + std::to_string(sizes[d]) + " in dimension " +
                            std::to_string(d));
  for (size_t d = 0; d < rank; ++d)
    if (spec.dims[d] != -1 && spec.dims[d] != sizes[d])
      return makeStatus(SPARQ_STATUS_INTERNAL, "model '" + model->path + "' returned " + what +
                                                   " with shape " + formatShape(dims) +
                                                   ", its signature says " +
                                                   formatShape(spec.dims));
  size_t elementSize = sparq_element_type_size(spec.type);
  void *allocated;
  std::memcpy(&allocated, &words[0], sizeof(void *));
  sparq_tensor_t *tensor = nullptr;
  bool isString = spec.type == SPARQ_ELEMENT_TYPE_STRING;
  if (adopt && !isString && allocated && aligned && isRowMajor(sizes, strides, rank)) {
    // No copy: the tensor views the model's block (a plain malloc block, or one from the
    // artifact's allocator cache) and releases it when destroyed.
    if (sparq_status_t status = sparq_tensor_wrap(
            spec.type, int64_t(rank), dims.data(),
            static_cast<char *>(aligned) + offset * int64_t(elementSize), ~size_t(0), &tensor))
      return status;
    tensor->allocation = allocated;
    tensor->release = model->release;
    tensor->name = spec.name;
    *out = tensor;
    return nullptr;
  }
  if (sparq_status_t status = createTensor(spec.type, dims, &tensor))
    return status;
  if (tensor->numElements > 0) {
    if (!aligned) {
      sparq_tensor_destroy(tensor);
      return makeStatus(SPARQ_STATUS_INTERNAL, "model '" + model->path +
                                                   "' broke the artifact ABI: " + what +
                                                   " has a NULL data pointer");
    }
    copyStrided(static_cast<char *>(tensor->data),
                static_cast<const char *>(aligned) + offset * int64_t(elementSize), elementSize,
                sizes, strides, rank);
    if (isString)
      if (sparq_status_t status = ownStrings(tensor)) {
        sparq_tensor_destroy(tensor);
        return status;
      }
  }
  tensor->name = spec.name;
  *out = tensor;
  return nullptr;
}

sparq_status_t runImpl(sparq_session_t *session) {
  sparq_model_t *model = session->model;
  const Signature &signature = model->signature;
  clearOutputs(session);
  for (size_t i = 0; i < signature.inputs.size(); ++i)
    if (!session->inputs[i])
      return makeStatus(SPARQ_STATUS_FAILED_PRECONDITION,
                        describeTensor("input", signature.inputs[i], i) +
                            " is not bound (the model has " +
                            std::to_string(signature.inputs.size()) + " inputs)");
  // Dimensions the model declares equal (one ONNX dim_param): the compiled code indexes one
  // input with the other's size, so a mismatch would read past a buffer.
  for (const EqualDims &group : signature.equalDims) {
    auto [i0, d0] = group.members.front();
    int64_t size0 = session->inputs[i0]->dims[d0];
    for (auto [i, d] : group.members) {
      int64_t size = session->inputs[i]->dims[d];
      if (size != size0)
        return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                          describeTensor("input", signature.inputs[i0], i0) + " dimension " +
                              std::to_string(d0) + " is " + std::to_string(size0) + " but " +
                              describeTensor("input", signature.inputs[i], i) + " dimension " +
                              std::to_string(d) + " is " + std::to_string(size) +
                              "; the model declares both as the dimension '" + group.symbol +
                              "', so they must be equal");
    }
  }

  // Input descriptors: contiguous row-major, offset 0. A string input is its pointer array;
  // the model needs a string behind every element, so a wrapped array with NULL elements is
  // passed as a copy with "" in their place.
  std::vector<std::vector<int64_t>> inputDescriptors(signature.inputs.size());
  std::vector<std::vector<const char *>> stringInputs(signature.inputs.size());
  std::vector<void *> args(1 + signature.inputs.size());
  for (size_t i = 0; i < signature.inputs.size(); ++i) {
    const sparq_tensor_t *tensor = session->inputs[i];
    void *data = tensor->data;
    if (tensor->type == SPARQ_ELEMENT_TYPE_STRING) {
      const char *const *elements = static_cast<const char *const *>(data);
      const char *const *end = elements + tensor->numElements;
      if (std::find(elements, end, nullptr) != end) {
        for (const char *const *element = elements; element != end; ++element)
          stringInputs[i].push_back(*element ? *element : "");
        data = stringInputs[i].data();
      }
    }
    size_t rank = tensor->dims.size();
    std::vector<int64_t> &words = inputDescriptors[i];
    words.assign(3 + 2 * rank, 0);
    std::memcpy(&words[0], &data, sizeof(void *));
    std::memcpy(&words[1], &data, sizeof(void *));
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      words[3 + d] = tensor->dims[d];
      words[3 + rank + d] = stride;
      stride *= tensor->dims[d];
    }
    args[1 + i] = words.data();
  }
  // Results area: M descriptors back to back, zero-initialised.
  std::vector<size_t> outputOffsets;
  size_t resultWords = 0;
  for (const TensorSpec &spec : signature.outputs) {
    outputOffsets.push_back(resultWords);
    resultWords += 3 + 2 * spec.dims.size();
  }
  std::vector<int64_t> results(resultWords + 1, 0);
  args[0] = results.data();

  // A failed run-time check of the compiled code (docs/artifact-abi.md): the artifact has
  // already freed what the invocation allocated and written no outputs.
  char error[1024];
  if (int32_t rc = model->invoke(args.data(), error, sizeof error))
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      "model '" + model->path + "': " +
                          (rc == 1 ? "run-time check failed: " + std::string(error)
                                   : "invocation failed with status " + std::to_string(rc)));

  // An output whose block no other output shares is adopted without a copy (when
  // contiguous and not of strings); the others are copied, and every block not adopted is
  // freed once.
  std::vector<void *> blocks(signature.outputs.size(), nullptr);
  std::map<void *, int> uses;
  for (size_t k = 0; k < signature.outputs.size(); ++k) {
    std::memcpy(&blocks[k], &results[outputOffsets[k]], sizeof(void *));
    if (blocks[k])
      ++uses[blocks[k]];
  }
  sparq_status_t status = nullptr;
  std::vector<sparq_tensor_t *> outputs(signature.outputs.size(), nullptr);
  for (size_t k = 0; k < signature.outputs.size() && !status; ++k)
    status = collectOutput(model, k, results.data() + outputOffsets[k],
                           blocks[k] && uses[blocks[k]] == 1, &outputs[k]);
  std::set<void *> freed;
  for (size_t k = 0; k < signature.outputs.size(); ++k) {
    bool adopted = outputs[k] && outputs[k]->allocation == blocks[k];
    if (blocks[k] && !adopted && freed.insert(blocks[k]).second)
      (model->release ? model->release : std::free)(blocks[k]);
  }
  // The string outputs own copies of their text now: the run's strings can go.
  if (model->releaseStrings)
    model->releaseStrings();
  if (status) {
    for (sparq_tensor_t *tensor : outputs)
      sparq_tensor_destroy(tensor);
    return status;
  }
  session->outputs = std::move(outputs);
  session->taken.assign(session->outputs.size(), false);
  session->haveOutputs = true;
  return nullptr;
}

/// Releases a model being loaded when loading fails (dlclose included).
struct ModelReleaser {
  void operator()(sparq_model_t *model) const { releaseModel(model); }
};

/// Splits the text of sparq_model_cpu_v1 ("CPU FEATURE ...") into words.
std::vector<std::string> splitWords(const std::string &text) {
  std::vector<std::string> words;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos)
      end = text.size();
    if (end > pos)
      words.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return words;
}

/// Refuses an artifact whose sparq_model_cpu_v1 names features this CPU lacks.
sparq_status_t checkCpu(const std::string &path, SignatureFn cpuFn) {
  const char *cpuText = cpuFn();
  std::vector<std::string> words = splitWords(cpuText ? cpuText : "");
  std::vector<std::string> required(words.empty() ? words.begin() : words.begin() + 1,
                                    words.end());
  std::vector<std::string> missing = missingCpuFeatures(required);
  if (missing.empty())
    return nullptr;
  std::string list;
  for (const std::string &f : missing)
    list += (list.empty() ? "" : ", ") + f;
  return makeStatus(SPARQ_STATUS_FAILED_PRECONDITION,
                    "artifact '" + path + "' was compiled for CPU '" +
                        (words.empty() ? "?" : words[0]) + "' and uses " + list +
                        ", which this CPU lacks; recompile it with --cpu=native on this "
                        "machine or an older target such as --cpu=x86-64-v3");
}

/// sparq_model_load after the argument checks: validates the file (ArtifactCheck.h), dlopens
/// it, checks that every ABI symbol it uses is a function of the artifact, checks the CPU and
/// parses the signature.
sparq_status_t loadModel(const char *path, sparq_model_t **out_model) {
  // A bare file name would make dlopen search the library path instead of the current
  // directory; load it from the current directory like any other file.
  std::string openPath = std::strchr(path, '/') ? std::string(path) : "./" + std::string(path);
  std::string subject = std::string("cannot load artifact '") + path + "'";
  if (sparq_status_t status = checkArtifactFile(openPath.c_str(), subject))
    return status;
  // Own the model before dlopen, so that no later failure can leak the handle.
  std::unique_ptr<sparq_model_t, ModelReleaser> model(new sparq_model_s);
  model->path = path;
  dlerror();
  model->handle = dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!model->handle) {
    const char *reason = dlerror();
    return makeStatus(SPARQ_STATUS_NOT_FOUND,
                      subject + ": " + (reason ? reason : "dlopen failed"));
  }
  // Looks up `symbol`; a missing optional symbol leaves `out` NULL.
  auto lookup = [&](const char *symbol, bool required, void *&out) -> sparq_status_t {
    dlerror();
    out = dlsym(model->handle, symbol);
    const char *reason = dlerror();
    if (out && !reason)
      return checkArtifactFunction(model->handle, out, symbol, model->path);
    out = nullptr;
    if (!required)
      return nullptr;
    return makeStatus(SPARQ_STATUS_NOT_FOUND,
                      "artifact '" + model->path + "' does not export " + symbol +
                          " (is it a sparq model artifact?): " +
                          (reason ? reason : "symbol is NULL"));
  };
  void *signatureSymbol = nullptr, *invokeSymbol = nullptr, *setNumThreadsSymbol = nullptr,
       *peakBytesSymbol = nullptr, *cpuSymbol = nullptr, *profileSymbol = nullptr,
       *profileReadSymbol = nullptr, *releaseSymbol = nullptr, *releaseStringsSymbol = nullptr;
  struct AbiSymbol {
    const char *name;
    bool required;
    void **out;
  };
  const AbiSymbol symbols[] = {{"sparq_model_signature_v1", true, &signatureSymbol},
                               {"sparq_model_invoke_v2", true, &invokeSymbol},
                               {"sparq_model_set_num_threads_v1", false, &setNumThreadsSymbol},
                               {"sparq_model_peak_bytes_v1", false, &peakBytesSymbol},
                               {"sparq_model_cpu_v1", false, &cpuSymbol},
                               {"sparq_model_profile_v1", false, &profileSymbol},
                               {"sparq_model_profile_read_v1", false, &profileReadSymbol},
                               {"sparq_model_release_v1", false, &releaseSymbol},
                               {"sparq_model_release_strings_v1", false, &releaseStringsSymbol}};
  // Version 1 of the invoke entry had no status return (no run-time checks): such an artifact
  // is refused by name rather than reported as "not a sparq artifact".
  dlerror();
  if (!dlsym(model->handle, "sparq_model_invoke_v2") && dlsym(model->handle, "sparq_model_invoke_v1"))
    return makeStatus(SPARQ_STATUS_FAILED_PRECONDITION,
                      "artifact '" + model->path +
                          "' uses version 1 of the artifact ABI (sparq_model_invoke_v1, without "
                          "a status return); this runtime needs version 2: compile the model "
                          "again with this release's sparq-compile");
  for (const AbiSymbol &symbol : symbols)
    if (sparq_status_t status = lookup(symbol.name, symbol.required, *symbol.out))
      return status;
  model->invoke = reinterpret_cast<InvokeFn>(invokeSymbol);
  model->setNumThreads = reinterpret_cast<SetNumThreadsFn>(setNumThreadsSymbol);
  model->peakBytes = reinterpret_cast<PeakBytesFn>(peakBytesSymbol);
  model->release = reinterpret_cast<ReleaseFn>(releaseSymbol);
  model->releaseStrings = reinterpret_cast<void (*)()>(releaseStringsSymbol);
  // Optional: the CPU the artifact was compiled for and the features its code uses.
  if (cpuSymbol)
    if (sparq_status_t status = checkCpu(model->path, reinterpret_cast<SignatureFn>(cpuSymbol)))
      return status;
  const char *text = reinterpret_cast<SignatureFn>(signatureSymbol)();
  if (sparq_status_t status = parseSignature(text, model->path, model->signature))
    return status;
  if (profileSymbol || profileReadSymbol) {
    if (!profileSymbol || !profileReadSymbol)
      return makeStatus(SPARQ_STATUS_DATA_LOSS,
                        "artifact '" + model->path + "' exports only one of " +
                            "sparq_model_profile_v1 and sparq_model_profile_read_v1");
    const char *table = reinterpret_cast<SignatureFn>(profileSymbol)();
    if (sparq_status_t status =
            sparq::runtime::parseProfileTable(table, model->path, model->kernelInfo))
      return status;
    model->profileRead = reinterpret_cast<ProfileReadFn>(profileReadSymbol);
  }
  *out_model = model.release();
  return nullptr;
}

sparq_status_t checkOutputIndex(const sparq_session_t *session, size_t index, const char *where) {
  const Signature &signature = session->model->signature;
  if (index >= signature.outputs.size())
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string(where) + ": output index " + std::to_string(index) +
                          " is out of range (the model has " +
                          std::to_string(signature.outputs.size()) + " outputs)");
  if (!session->haveOutputs)
    return makeStatus(SPARQ_STATUS_FAILED_PRECONDITION,
                      std::string(where) + ": no outputs (sparq_session_run has not succeeded)");
  if (session->taken[index])
    return makeStatus(SPARQ_STATUS_FAILED_PRECONDITION,
                      std::string(where) + ": " +
                          describeTensor("output", signature.outputs[index], index) +
                          " was already taken with sparq_session_take_output");
  return nullptr;
}

} // namespace

extern "C" {

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

sparq_status_t sparq_model_load(const char *path, sparq_model_t **out_model) {
  if (!path)
    return nullArgument("sparq_model_load", "path");
  if (!out_model)
    return nullArgument("sparq_model_load", "out_model");
  try {
    return loadModel(path, out_model);
  } catch (const std::bad_alloc &) {
    return outOfMemory("sparq_model_load");
  }
}

void sparq_model_destroy(sparq_model_t *model) {
  if (model)
    releaseModel(model);
}

const char *sparq_model_path(const sparq_model_t *model) { return model->path.c_str(); }

sparq_status_t sparq_model_num_inputs(const sparq_model_t *model, size_t *out_count) {
  if (!model || !out_count)
    return nullArgument("sparq_model_num_inputs", !model ? "model" : "out_count");
  *out_count = model->signature.inputs.size();
  return nullptr;
}

sparq_status_t sparq_model_num_outputs(const sparq_model_t *model, size_t *out_count) {
  if (!model || !out_count)
    return nullArgument("sparq_model_num_outputs", !model ? "model" : "out_count");
  *out_count = model->signature.outputs.size();
  return nullptr;
}

sparq_status_t sparq_model_input_info(const sparq_model_t *model, size_t index,
                                      sparq_tensor_info_t *out_info) {
  if (!model || !out_info)
    return nullArgument("sparq_model_input_info", !model ? "model" : "out_info");
  if (index >= model->signature.inputs.size())
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      "input index " + std::to_string(index) + " is out of range (model '" +
                          model->path + "' has " +
                          std::to_string(model->signature.inputs.size()) + " inputs)");
  fillInfo(model->signature.inputs[index], out_info);
  return nullptr;
}

sparq_status_t sparq_model_output_info(const sparq_model_t *model, size_t index,
                                       sparq_tensor_info_t *out_info) {
  if (!model || !out_info)
    return nullArgument("sparq_model_output_info", !model ? "model" : "out_info");
  if (index >= model->signature.outputs.size())
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      "output index " + std::to_string(index) + " is out of range (model '" +
                          model->path + "' has " +
                          std::to_string(model->signature.outputs.size()) + " outputs)");
  fillInfo(model->signature.outputs[index], out_info);
  return nullptr;
}

sparq_status_t sparq_model_find_input(const sparq_model_t *model, const char *name,
                                      size_t *out_index) {
  if (!model || !name || !out_index)
    return nullArgument("sparq_model_find_input", !model ? "model" : !name ? "name" : "out_index");
  try {
    return findByName(model, model->signature.inputs, "input", name, out_index);
  } catch (const std::bad_alloc &) {
    return outOfMemory("sparq_model_find_input");
  }
}

sparq_status_t sparq_model_find_output(const sparq_model_t *model, const char *name,
                                       size_t *out_index) {
  if (!model || !name || !out_index)
    return nullArgument("sparq_model_find_output",
                        !model ? "model" : !name ? "name" : "out_index");
  try {
    return findByName(model, model->signature.outputs, "output", name, out_index);
  } catch (const std::bad_alloc &) {
    return outOfMemory("sparq_model_find_output");
  }
}

//===----------------------------------------------------------------------===//
// Sessions
//===----------------------------------------------------------------------===//

sparq_status_t sparq_session_create(sparq_model_t *model, sparq_session_t **out_session) {
  if (!model || !out_session)
    return nullArgument("sparq_session_create", !model ? "model" : "out_session");
  try {
    sparq_session_t *session = new sparq_session_s;
    session->inputs.assign(model->signature.inputs.size(), nullptr);
    session->model = model;
    retainModel(model);
    *out_session = session;
    return nullptr;
  } catch (const std::bad_alloc &) {
    return outOfMemory("sparq_session_create");
  }
}

void sparq_session_destroy(sparq_session_t *session) {
  if (!session)
    return;
  clearOutputs(session);
  releaseModel(session->model);
  delete session;
}

sparq_status_t sparq_session_bind_input(sparq_session_t *session, size_t index,
                                        const sparq_tensor_t *tensor) {
  if (!session || !tensor)
    return nullArgument("sparq_session_bind_input", !session ? "session" : "tensor");
  try {
    const Signature &signature = session->model->signature;
    if (index >= signature.inputs.size())
      return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                        "input index " + std::to_string(index) + " is out of range (model '" +
                            session->model->path + "' has " +
                            std::to_string(signature.inputs.size()) + " inputs)");
    if (sparq_status_t status = checkInput(session->model, index, tensor))
      return status;
    session->inputs[index] = tensor;
    return nullptr;
  } catch (const std::bad_alloc &) {
    return outOfMemory("sparq_session_bind_input");
  }
}

sparq_status_t sparq_session_bind_input_by_name(sparq_session_t *session, const char *name,
                                                const sparq_tensor_t *tensor) {
  if (!session || !name)
    return nullArgument("sparq_session_bind_input_by_name", !session ? "session" : "name");
  size_t index = 0;
  if (sparq_status_t status = sparq_model_find_input(session->model, name, &index))
    return status;
  return sparq_session_bind_input(session, index, tensor);
}

sparq_status_t sparq_session_bind_inputs(sparq_session_t *session, size_t count,
                                         const sparq_tensor_t *const *tensors) {
  if (!session || (count > 0 && !tensors))
    return nullArgument("sparq_session_bind_inputs", !session ? "session" : "tensors");
  size_t expected = session->model->signature.inputs.size();
  if (count != expected)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      "model '" + session->model->path + "' expects " +
                          std::to_string(expected) + " inputs, got " + std::to_string(count));
  for (size_t i = 0; i < count; ++i) {
    if (!tensors[i])
      return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                        describeTensor("input", session->model->signature.inputs[i], i) +
                            ": tensor is NULL");
    if (sparq_status_t status = checkInput(session->model, i, tensors[i]))
      return status;
  }
  for (size_t i = 0; i < count; ++i)
    session->inputs[i] = tensors[i];
  return nullptr;
}

sparq_status_t sparq_session_set_num_threads(sparq_session_t *session, int num_threads) {
  if (!session)
    return nullArgument("sparq_session_set_num_threads", "session");
  if (num_threads < 1)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      "sparq_session_set_num_threads: the thread count must be >= 1, got " +
                          std::to_string(num_threads));
  sparq_model_t *model = session->model;
  if (!model->setNumThreads) {
    if (num_threads == 1)
      return nullptr;
    return makeStatus(SPARQ_STATUS_UNIMPLEMENTED,
                      "artifact '" + model->path +
                          "' was compiled without multi-threading support (it does not export "
                          "sparq_model_set_num_threads_v1); cannot use " +
                          std::to_string(num_threads) + " threads");
  }
  model->setNumThreads(num_threads);
  return nullptr;
}

sparq_status_t sparq_session_peak_bytes(const sparq_session_t *session, int64_t *out_bytes) {
  if (!session)
    return nullArgument("sparq_session_peak_bytes", "session");
  if (!out_bytes)
    return nullArgument("sparq_session_peak_bytes", "out_bytes");
  if (!session->model->peakBytes)
    return makeStatus(SPARQ_STATUS_UNIMPLEMENTED,
                      "artifact '" + session->model->path +
                          "' does not report its buffer memory (no sparq_model_peak_bytes_v1)");
  if (!session->haveOutputs)
    return makeStatus(SPARQ_STATUS_FAILED_PRECONDITION,
                      "sparq_session_peak_bytes: the session has not run yet");
  *out_bytes = session->model->peakBytes();
  return nullptr;
}

sparq_status_t sparq_model_profile(sparq_model_t *model, int reset, size_t *out_count,
                                   const sparq_kernel_profile_t **out_kernels) {
  if (!model || !out_count || !out_kernels)
    return nullArgument("sparq_model_profile",
                        !model ? "model" : !out_count ? "out_count" : "out_kernels");
  if (!model->profileRead)
    return makeStatus(SPARQ_STATUS_UNIMPLEMENTED,
                      "artifact '" + model->path +
                          "' has no kernel timers (compile it with sparq-compile --profile)");
  try {
    size_t n = model->kernelInfo.size();
    model->profileCounters.assign(2 * n, 0);
    model->profileRead(model->profileCounters.data(), int64_t(n), reset ? 1 : 0);
    model->profile.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const sparq::runtime::KernelInfo &info = model->kernelInfo[i];
      model->profile[i] = {info.kind.c_str(), info.name.c_str(), info.flops, info.bytes,
                           model->profileCounters[2 * i + 1],
                           double(model->profileCounters[2 * i]) * 1e-9};
    }
    *out_count = n;
    *out_kernels = model->profile.data();
    return nullptr;
  } catch (const std::bad_alloc &) {
    return outOfMemory("sparq_model_profile");
  }
}

sparq_status_t sparq_session_run(sparq_session_t *session) {
  if (!session)
    return nullArgument("sparq_session_run", "session");
  try {
    return runImpl(session);
  } catch (const std::bad_alloc &) {
    return outOfMemory("sparq_session_run");
  }
}

sparq_status_t sparq_session_output(const sparq_session_t *session, size_t index,
                                    const sparq_tensor_t **out_tensor) {
  if (!session || !out_tensor)
    return nullArgument("sparq_session_output", !session ? "session" : "out_tensor");
  if (sparq_status_t status = checkOutputIndex(session, index, "sparq_session_output"))
    return status;
  *out_tensor = session->outputs[index];
  return nullptr;
}

sparq_status_t sparq_session_take_output(sparq_session_t *session, size_t index,
                                         sparq_tensor_t **out_tensor) {
  if (!session || !out_tensor)
    return nullArgument("sparq_session_take_output", !session ? "session" : "out_tensor");
  if (sparq_status_t status = checkOutputIndex(session, index, "sparq_session_take_output"))
    return status;
  *out_tensor = session->outputs[index];
  // The caller may destroy it after the artifact is unloaded: free() it then, not the
  // artifact's release.
  if (*out_tensor)
    (*out_tensor)->release = nullptr;
  session->outputs[index] = nullptr;
  session->taken[index] = true;
  return nullptr;
}

} // extern "C"
