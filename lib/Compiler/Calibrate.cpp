//===- lib/Compiler/Calibrate.cpp - calibration statistics -----------------===//
//
// `sparq-compile --calibration DIR`: the imported module is cloned, every compressible layer's
// input becomes an extra result (instrumentForCalibration), the clone is compiled dense to a
// temporary artifact and run through the runtime's C API on each calibration sample, and the
// activations are folded into per-layer second moments (weight::InputStatistics; im2col patches
// for convolutions). docs/calibration.md describes the layout of DIR and the cost.
//
//===----------------------------------------------------------------------===//
#include "lib/Compiler/CompileInternal.h"

#include "dialects/Weight/Calibration.h"
#include "passes/Passes.h"
#include "sparq/Runtime/sparq_runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>

using namespace mlir;

namespace sparq {

namespace {

/// The runtime's objects with their destructors.
struct ModelHandle {
  sparq_model_t *model = nullptr;
  sparq_session_t *session = nullptr;
  std::vector<sparq_tensor_t *> inputs;
  ~ModelHandle() {
    for (sparq_tensor_t *t : inputs)
      sparq_tensor_destroy(t);
    if (session)
      sparq_session_destroy(session);
    if (model)
      sparq_model_destroy(model);
  }
};

/// The status's message (and frees it), or "" for success.
std::string statusMessage(sparq_status_t st) {
  if (!st)
    return "";
  std::string msg = sparq_status_message(st);
  sparq_status_free(st);
  return msg;
}

/// `input_<i>.pb` or `input_<i>.npy` in `dir`, or "".
std::string inputFile(llvm::StringRef dir, size_t i) {
  for (const char *ext : {".pb", ".npy"}) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, "input_" + std::to_string(i) + ext);
    if (llvm::sys::fs::exists(p))
      return p.str().str();
  }
  return "";
}

/// The sample folders of `dir`: `dir` itself when it holds input_0.*, else its sub-folders
/// that do, in name order.
FailureOr<std::vector<std::string>> sampleDirs(llvm::StringRef dir, Location loc) {
  if (!llvm::sys::fs::is_directory(dir))
    return emitError(loc) << "--calibration '" << dir << "' is not a directory";
  if (!inputFile(dir, 0).empty())
    return std::vector<std::string>{dir.str()};
  std::vector<std::string> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec))
    if (llvm::sys::fs::is_directory(it->path()) && !inputFile(it->path(), 0).empty())
      out.push_back(it->path());
  if (ec)
    return emitError(loc) << "--calibration '" << dir << "': " << ec.message();
  if (out.empty())
    return emitError(loc) << "--calibration '" << dir
                          << "' holds no samples (expected folders of input_0.pb / input_0.npy, "
                             "input_1..., as sparq-run --inputs reads)";
  std::sort(out.begin(), out.end());
  return out;
}

/// Adds the activations of one probe to `stats`: rows of a MatMul/Gemm input, im2col patches of
/// a convolution input.
LogicalResult accumulate(const CalibrationProbe &p, const sparq_tensor_t *t,
                         weight::InputStatistics &stats, Location loc) {
  if (sparq_tensor_element_type(t) != SPARQ_ELEMENT_TYPE_FLOAT32)
    return emitError(loc) << "internal error: calibration output for layer '" << p.name
                          << "' is not float32";
  const float *x = static_cast<const float *>(sparq_tensor_data(t));
  int64_t rank = sparq_tensor_rank(t);
  const int64_t *dims = sparq_tensor_dims(t);
  int64_t n = sparq_tensor_num_elements(t);
  if (!p.isConv) {
    if (rank < 1 || dims[rank - 1] != p.k)
      return emitError(loc) << "internal error: calibration input of layer '" << p.name
                            << "' does not end in " << p.k;
    stats.accumulate(x, n / p.k);
    return success();
  }
  if (rank != 4)
    return emitError(loc) << "internal error: convolution input of '" << p.name
                          << "' is not 4-D";
  int64_t batch = dims[0], c = dims[1], h = dims[2], w = dims[3];
  int64_t kh = p.kernel[0], kw = p.kernel[1];
  if (c * kh * kw != p.k)
    return emitError(loc) << "internal error: convolution patches of '" << p.name
                          << "' do not have length " << p.k;
  int64_t oh = (h + p.pads[0] + p.pads[2] - p.dilations[0] * (kh - 1) - 1) / p.strides[0] + 1;
  int64_t ow = (w + p.pads[1] + p.pads[3] - p.dilations[1] * (kw - 1) - 1) / p.strides[1] + 1;
  constexpr int64_t kBatch = 64;
  std::vector<float> patches((size_t)(kBatch * p.k));
  int64_t filled = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        float *v = &patches[filled * p.k];
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t i = 0; i < kh; ++i) {
            int64_t iy = oy * p.strides[0] - p.pads[0] + i * p.dilations[0];
            for (int64_t j = 0; j < kw; ++j) {
              int64_t ix = ox * p.strides[1] - p.pads[1] + j * p.dilations[1];
              bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              v[(ch * kh + i) * kw + j] = inside ? x[((b * c + ch) * h + iy) * w + ix] : 0.0f;
            }
          }
        if (++filled == kBatch) {
          stats.accumulate(patches.data(), filled);
          filled = 0;
        }
      }
  if (filled)
    stats.accumulate(patches.data(), filled);
  return success();
}

} // namespace

FailureOr<std::shared_ptr<const weight::CalibrationData>>
collectCalibration(OwningOpRef<ModuleOp> module, const CompileOptions &options) {
  Location loc = FileLineColLoc::get(module->getContext(), options.calibrationDir, 0, 0);
  FailureOr<std::vector<std::string>> samples = sampleDirs(options.calibrationDir, loc);
  if (failed(samples))
    return failure();

  // The dense, instrumented artifact.
  FailureOr<std::vector<CalibrationProbe>> probes = instrumentForCalibration(*module);
  if (failed(probes))
    return failure();
  auto data = std::make_shared<weight::CalibrationData>();
  if (probes->empty())
    return std::shared_ptr<const weight::CalibrationData>(data);
  llvm::SmallString<128> soPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("sparq-calibration", "so", soPath))
    return emitError(loc) << "cannot create a temporary file: " << ec.message();
  llvm::FileRemover remover(soPath);
  // -O1: about half the compile time of -O2 and fast enough to run the samples.
  CompileOptions instrumented = options;
  instrumented.optLevel = std::min(options.optLevel, 1u);
  // Its weights go as soon as the artifact is written (the compressed compile imports the
  // model again), and the module with them.
  if (failed(lowerAndWrite(*module, instrumented, EmitKind::Lib, soPath, /*lastUse=*/true)))
    return emitError(loc) << "cannot build the instrumented model for calibration";
  module = nullptr;

  ModelHandle h;
  if (std::string e = statusMessage(sparq_model_load(soPath.c_str(), &h.model)); !e.empty())
    return emitError(loc) << "cannot load the instrumented model: " << e;
  if (std::string e = statusMessage(sparq_session_create(h.model, &h.session)); !e.empty())
    return emitError(loc) << e;
  size_t numInputs = 0, numOutputs = 0;
  (void)statusMessage(sparq_model_num_inputs(h.model, &numInputs));
  (void)statusMessage(sparq_model_num_outputs(h.model, &numOutputs));

  // One statistics object per distinct input vector stream.
  std::map<std::tuple<unsigned, bool, std::vector<int64_t>>, std::shared_ptr<weight::InputStatistics>>
      byStream;
  for (const CalibrationProbe &p : *probes) {
    if (p.result == CalibrationProbe::kNoResult) {
      data->layers.push_back({p.name, nullptr});
      continue;
    }
    std::vector<int64_t> window;
    if (p.isConv)
      window = {p.kernel[0], p.kernel[1], p.strides[0], p.strides[1], p.dilations[0],
                p.dilations[1], p.pads[0],  p.pads[1],   p.pads[2],    p.pads[3]};
    auto &slot = byStream[{p.result, p.isConv, window}];
    if (!slot)
      slot = std::make_shared<weight::InputStatistics>(p.k);
    data->layers.push_back({p.name, slot});
  }

  for (auto [s, dir] : llvm::enumerate(*samples)) {
    if (options.calibrationProgress)
      options.calibrationProgress(s, samples->size());
    for (sparq_tensor_t *t : h.inputs)
      sparq_tensor_destroy(t);
    h.inputs.assign(numInputs, nullptr);
    for (size_t i = 0; i < numInputs; ++i) {
      sparq_tensor_info_t info;
      (void)statusMessage(sparq_model_input_info(h.model, i, &info));
      std::string file = inputFile(dir, i);
      if (file.empty())
        return emitError(loc) << "calibration sample '" << dir << "' has no input_" << i
                              << ".pb or input_" << i << ".npy (model input '" << info.name
                              << "')";
      if (std::string e = statusMessage(sparq_tensor_read_file(file.c_str(), &h.inputs[i]));
          !e.empty())
        return emitError(loc) << "calibration sample '" << dir << "': " << e;
      if (std::string e = statusMessage(sparq_session_bind_input(h.session, i, h.inputs[i]));
          !e.empty())
        return emitError(loc) << "calibration sample '" << file << "': " << e;
    }
    if (!inputFile(dir, numInputs).empty())
      return emitError(loc) << "calibration sample '" << dir << "' has input_" << numInputs
                            << " but the model has " << numInputs << " inputs";
    if (std::string e = statusMessage(sparq_session_run(h.session)); !e.empty())
      return emitError(loc) << "calibration sample '" << dir << "': " << e;
    std::map<weight::InputStatistics *, bool> done;
    for (auto [p, layer] : llvm::zip(*probes, data->layers)) {
      if (!layer.stats || done[layer.stats.get()])
        continue;
      done[layer.stats.get()] = true;
      if (p.result >= numOutputs)
        return emitError(loc) << "internal error: calibration result " << p.result
                              << " out of range";
      const sparq_tensor_t *t = nullptr;
      if (std::string e = statusMessage(sparq_session_output(h.session, p.result, &t));
          !e.empty())
        return emitError(loc) << e;
      if (failed(accumulate(p, t, *layer.stats, loc)))
        return failure();
    }
  }
  if (options.calibrationProgress)
    options.calibrationProgress(samples->size(), samples->size());
  data->samples = (int64_t)samples->size();
  return std::shared_ptr<const weight::CalibrationData>(data);
}

} // namespace sparq
