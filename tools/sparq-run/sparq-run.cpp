//===- tools/sparq-run/sparq-run.cpp - run a compiled sparq model ---------===//
//
//   sparq-run MODEL.so (--inputs DIR | --input NAME=FILE ...) [--output-dir DIR] [--npy]
//             [--expect DIR] [--rtol R] [--atol A] [--bench N [--cold]] [--threads T]
//             [--device N]
//             [--profile [--profile-json FILE] [--profile-svg FILE] [--baseline OTHER.so]]
//             [--roofline FILE]
//   sparq-run --measure-roofline [--threads T] [--roofline FILE]
//
// Loads an artifact with the runtime's C API, binds inputs read from .pb / .npy files, runs
// it, prints the outputs, and optionally writes them, compares them with expected outputs and
// times repeated runs (an artifact of sparq-compile --target=cuda runs on CUDA device --device N,
// default 0; each invocation ends when its kernels and copies have, so --bench times them whole).
// With --profile (an artifact compiled with sparq-compile --profile) it
// times each kernel and reports it against this machine's roofline (docs/profile.md). Errors: one line `sparq-run: error: ...` on stderr, exit code 1; usage
// errors exit 2; a comparison mismatch exits 1.
//
//===----------------------------------------------------------------------===//
#include "sparq/Runtime/sparq_runtime.h"
#include "tools/sparq-run/Evict.h"
#include "tools/sparq-run/ProfileReport.h"
#include "tools/sparq-run/Roofline.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

const char *const usageLine =
    "usage: sparq-run MODEL.so (--inputs DIR | --input NAME=FILE ...) [--output-dir DIR] "
    "[--npy] [--expect DIR] [--rtol R] [--atol A] [--bench N [--cold]] [--threads T] "
    "[--device N] "
    "[--profile [--profile-json FILE] [--profile-svg FILE] [--baseline OTHER.so]] "
    "[--roofline FILE] | sparq-run --measure-roofline [--threads T] [--roofline FILE]";

const size_t printedValues = 8;

struct Options {
  std::string model;
  std::string inputsDir;
  std::vector<std::pair<std::string, std::string>> inputs; ///< NAME, FILE
  std::string outputDir;
  bool npy = false;
  std::string expectDir;
  double rtol = 1e-3;
  double atol = 1e-4;
  long bench = 0;
  bool cold = false; ///< --cold: flush the artifact (its weights) from the caches before each run
  long threads = 0;
  /// --profile: time each kernel (runs: --bench N, default 10), against the roofline.
  bool profile = false;
  std::string profileJson, profileSvg;
  std::string baseline;     ///< --baseline: a second artifact profiled in alternation
  std::string roofline;     ///< --roofline: the roofline cache file
  bool measureRoofline = false;
};

/// Thrown for usage errors (exit 2).
struct UsageError {
  std::string message;
};

/// Thrown for everything else (exit 1).
struct Failure {
  std::string message;
};

struct TensorDeleter {
  void operator()(sparq_tensor_t *tensor) const { sparq_tensor_destroy(tensor); }
};
struct ModelDeleter {
  void operator()(sparq_model_t *model) const { sparq_model_destroy(model); }
};
struct SessionDeleter {
  void operator()(sparq_session_t *session) const { sparq_session_destroy(session); }
};
using TensorPtr = std::unique_ptr<sparq_tensor_t, TensorDeleter>;

/// Throws a Failure carrying the status's message (prefixed by `context`, if any).
void check(sparq_status_t status, const std::string &context = "") {
  if (!status)
    return;
  std::string message = sparq_status_message(status);
  sparq_status_free(status);
  throw Failure{context.empty() ? message : context + ": " + message};
}

double parseNumber(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(value) || value < 0)
    throw UsageError{flag + " expects a non-negative number, got '" + text + "'"};
  return value;
}

long parseCount(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 1 || value > 1000000000)
    throw UsageError{flag + " expects a positive integer, got '" + text + "'"};
  return value;
}

Options parseArgs(int argc, char **argv) {
  Options options;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool hasInlineValue = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos && arg != "--input") {
        // --flag=value; for --input the value itself contains '='.
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInlineValue = true;
      }
    }
    auto next = [&]() -> std::string {
      if (hasInlineValue)
        return value;
      if (i + 1 >= args.size())
        throw UsageError{arg + " needs a value"};
      return args[++i];
    };
    // A flag that takes no value.
    auto flag = [&]() {
      if (hasInlineValue)
        throw UsageError{arg + " takes no value"};
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      std::printf("%s\n", usageLine);
      std::exit(0);
    } else if (arg == "--inputs") {
      if (!options.inputsDir.empty())
        throw UsageError{"--inputs given twice"};
      options.inputsDir = next();
    } else if (arg == "--input") {
      std::string spec = next();
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        throw UsageError{"--input expects NAME=FILE, got '" + spec + "'"};
      std::string name = spec.substr(0, eq);
      for (const auto &given : options.inputs)
        if (given.first == name)
          throw UsageError{"--input '" + name + "' given twice"};
      options.inputs.emplace_back(name, spec.substr(eq + 1));
    } else if (arg == "--output-dir") {
      options.outputDir = next();
    } else if (arg == "--npy") {
      options.npy = flag();
    } else if (arg == "--expect") {
      options.expectDir = next();
    } else if (arg == "--rtol") {
      options.rtol = parseNumber(arg, next());
    } else if (arg == "--atol") {
      options.atol = parseNumber(arg, next());
    } else if (arg == "--bench") {
      options.bench = parseCount(arg, next());
    } else if (arg == "--cold") {
      options.cold = flag();
    } else if (arg == "--threads") {
      options.threads = parseCount(arg, next());
    } else if (arg == "--device") {
      // CUDA artifacts read it when they first use the driver (runtime/kernels/GpuLaunch.cpp).
      std::string n = next();
      char *end = nullptr;
      long device = std::strtol(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || device < 0 || device > 1024)
        throw UsageError{"--device expects a CUDA device number, got '" + n + "'"};
      setenv("SPARQ_CUDA_DEVICE", std::to_string(device).c_str(), 1);
    } else if (arg == "--profile") {
      options.profile = flag();
    } else if (arg == "--profile-json") {
      options.profileJson = next();
    } else if (arg == "--profile-svg") {
      options.profileSvg = next();
    } else if (arg == "--baseline") {
      options.baseline = next();
    } else if (arg == "--roofline") {
      options.roofline = next();
    } else if (arg == "--measure-roofline") {
      options.measureRoofline = flag();
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError{"unknown option '" + arg + "'"};
    } else if (options.model.empty()) {
      options.model = arg;
    } else {
      throw UsageError{"unexpected argument '" + arg + "' (the model is '" + options.model +
                       "')"};
    }
  }
  if (options.measureRoofline) {
    if (!options.model.empty() || options.profile)
      throw UsageError{"--measure-roofline runs no model"};
    return options;
  }
  if (options.model.empty())
    throw UsageError{"no model given"};
  if (!options.profile && (!options.profileJson.empty() || !options.profileSvg.empty() ||
                           !options.baseline.empty()))
    throw UsageError{"--profile-json, --profile-svg and --baseline need --profile"};
  if (options.profile && options.cold)
    throw UsageError{"--cold and --profile cannot be combined"};
  if (!options.inputsDir.empty() && !options.inputs.empty())
    throw UsageError{"give either --inputs DIR or --input NAME=FILE, not both"};
  if (options.npy && options.outputDir.empty())
    throw UsageError{"--npy needs --output-dir"};
  if (options.cold && options.bench == 0)
    throw UsageError{"--cold needs --bench N"};
  return options;
}

/// Reads element `i` of `tensor` as a double (for printing and float comparison).
double elementAsDouble(const sparq_tensor_t *tensor, int64_t i) {
  const char *data = static_cast<const char *>(sparq_tensor_data(tensor));
  switch (sparq_tensor_element_type(tensor)) {
  case SPARQ_ELEMENT_TYPE_FLOAT32: return double(reinterpret_cast<const float *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_FLOAT64: return reinterpret_cast<const double *>(data)[i];
  case SPARQ_ELEMENT_TYPE_FLOAT16:
    return double(sparq_float16_to_float32(reinterpret_cast<const uint16_t *>(data)[i]));
  case SPARQ_ELEMENT_TYPE_BFLOAT16:
    return double(sparq_bfloat16_to_float32(reinterpret_cast<const uint16_t *>(data)[i]));
  case SPARQ_ELEMENT_TYPE_INT8: return double(reinterpret_cast<const int8_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_INT16: return double(reinterpret_cast<const int16_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_INT32: return double(reinterpret_cast<const int32_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_INT64: return double(reinterpret_cast<const int64_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_UINT8: return double(reinterpret_cast<const uint8_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_UINT16: return double(reinterpret_cast<const uint16_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_UINT32: return double(reinterpret_cast<const uint32_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_UINT64: return double(reinterpret_cast<const uint64_t *>(data)[i]);
  case SPARQ_ELEMENT_TYPE_BOOL: return double(reinterpret_cast<const uint8_t *>(data)[i]);
  default: return std::nan("");
  }
}

bool isFloatType(sparq_element_type_t type) {
  return type == SPARQ_ELEMENT_TYPE_FLOAT32 || type == SPARQ_ELEMENT_TYPE_FLOAT64 ||
         type == SPARQ_ELEMENT_TYPE_FLOAT16 || type == SPARQ_ELEMENT_TYPE_BFLOAT16;
}

/// Element `i` of a string tensor (a NULL element reads as "").
const char *stringElement(const sparq_tensor_t *tensor, int64_t i) {
  const char *text = static_cast<const char *const *>(sparq_tensor_data(tensor))[i];
  return text ? text : "";
}

/// `text` in double quotes, with '"', '\\' and control bytes escaped; other bytes (UTF-8) kept.
std::string quoted(const char *text) {
  std::string out = "\"";
  for (const char *p = text; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\x%02x", c);
      out += escape;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string formatElement(const sparq_tensor_t *tensor, int64_t i) {
  char buffer[64];
  const char *data = static_cast<const char *>(sparq_tensor_data(tensor));
  switch (sparq_tensor_element_type(tensor)) {
  case SPARQ_ELEMENT_TYPE_STRING:
    return quoted(stringElement(tensor, i));
  case SPARQ_ELEMENT_TYPE_INT64:
    std::snprintf(buffer, sizeof(buffer), "%" PRId64, reinterpret_cast<const int64_t *>(data)[i]);
    break;
  case SPARQ_ELEMENT_TYPE_UINT64:
    std::snprintf(buffer, sizeof(buffer), "%" PRIu64, reinterpret_cast<const uint64_t *>(data)[i]);
    break;
  case SPARQ_ELEMENT_TYPE_BOOL:
    return reinterpret_cast<const uint8_t *>(data)[i] ? "true" : "false";
  default:
    std::snprintf(buffer, sizeof(buffer), "%.7g", elementAsDouble(tensor, i));
    break;
  }
  return buffer;
}

std::string formatShape(const sparq_tensor_t *tensor) {
  int64_t rank = sparq_tensor_rank(tensor);
  if (rank == 0)
    return "scalar";
  std::string text;
  for (int64_t d = 0; d < rank; ++d)
    text += (d ? "x" : "") + std::to_string(sparq_tensor_dims(tensor)[d]);
  return text;
}

void printOutput(size_t k, const sparq_tensor_t *tensor) {
  int64_t count = sparq_tensor_num_elements(tensor);
  std::string text = "output " + std::to_string(k) + " '" + sparq_tensor_name(tensor) +
                     "': " + sparq_element_type_name(sparq_tensor_element_type(tensor)) + " " +
                     formatShape(tensor) + " [";
  for (int64_t i = 0; i < count && size_t(i) < printedValues; ++i)
    text += (i ? ", " : "") + formatElement(tensor, i);
  if (size_t(count) > printedValues)
    text += ", ... (" + std::to_string(count) + " values)";
  text += "]";
  std::printf("%s\n", text.c_str());
}

/// Compares two string tensors of one shape element by element, exactly; prints one line.
bool compareStrings(const std::string &prefix, const sparq_tensor_t *actual,
                    const sparq_tensor_t *expected) {
  int64_t count = sparq_tensor_num_elements(actual);
  int64_t differing = 0, first = -1;
  for (int64_t i = 0; i < count; ++i) {
    if (std::strcmp(stringElement(actual, i), stringElement(expected, i)) != 0) {
      if (first < 0)
        first = i;
      ++differing;
    }
  }
  if (differing == 0) {
    std::printf("%s%" PRId64 " strings equal OK\n", prefix.c_str(), count);
    return true;
  }
  std::printf("%s%" PRId64 " of %" PRId64 " strings differ, the first at index %" PRId64
              ": expected %s, got %s MISMATCH\n",
              prefix.c_str(), differing, count, first,
              quoted(stringElement(expected, first)).c_str(),
              quoted(stringElement(actual, first)).c_str());
  return false;
}

/// Compares `actual` with `expected`; prints one line; returns true when they match.
bool compareOutput(size_t k, const sparq_tensor_t *actual, const sparq_tensor_t *expected,
                   double rtol, double atol) {
  std::string prefix = "output " + std::to_string(k) + " '" + sparq_tensor_name(actual) + "': ";
  sparq_element_type_t type = sparq_tensor_element_type(actual);
  bool sameShape = sparq_tensor_rank(actual) == sparq_tensor_rank(expected) &&
                   std::equal(sparq_tensor_dims(actual),
                              sparq_tensor_dims(actual) + sparq_tensor_rank(actual),
                              sparq_tensor_dims(expected));
  if (type != sparq_tensor_element_type(expected) || !sameShape) {
    std::printf("%sexpected %s %s, got %s %s MISMATCH\n", prefix.c_str(),
                sparq_element_type_name(sparq_tensor_element_type(expected)),
                formatShape(expected).c_str(), sparq_element_type_name(type),
                formatShape(actual).c_str());
    return false;
  }
  if (type == SPARQ_ELEMENT_TYPE_STRING)
    return compareStrings(prefix, actual, expected);
  int64_t count = sparq_tensor_num_elements(actual);
  size_t elementSize = sparq_element_type_size(type);
  const char *a = static_cast<const char *>(sparq_tensor_data(actual));
  const char *e = static_cast<const char *>(sparq_tensor_data(expected));
  double maxAbs = 0, maxRel = 0;
  bool ok = true;
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < count; ++i) {
    double av = elementAsDouble(actual, i), ev = elementAsDouble(expected, i);
    double abs = 0, rel = 0;
    bool elementOk;
    if (isFloatType(type)) {
      if (std::isnan(ev)) {
        elementOk = std::isnan(av);
        abs = rel = elementOk ? 0 : inf;
      } else if (std::isinf(ev) || std::isinf(av) || std::isnan(av)) {
        elementOk = av == ev;
        abs = rel = elementOk ? 0 : inf;
      } else {
        abs = std::fabs(av - ev);
        rel = ev != 0 ? abs / std::fabs(ev) : 0;
        elementOk = abs <= atol + rtol * std::fabs(ev);
      }
    } else {
      // Integers and bools: exact, on the bytes (doubles cannot hold every int64).
      elementOk = std::memcmp(a + size_t(i) * elementSize, e + size_t(i) * elementSize,
                              elementSize) == 0;
      abs = std::fabs(av - ev);
      rel = ev != 0 ? abs / std::fabs(ev) : 0;
      if (!elementOk && abs == 0)
        abs = 1; // differ beyond double precision
    }
    ok &= elementOk;
    maxAbs = std::max(maxAbs, abs);
    maxRel = std::max(maxRel, rel);
  }
  std::printf("%smax_abs_err=%.6g max_rel_err=%.6g %s\n", prefix.c_str(), maxAbs, maxRel,
              ok ? "OK" : "MISMATCH");
  return ok;
}

std::string joinPath(const std::string &dir, const std::string &file) {
  return (std::filesystem::path(dir) / file).string();
}

bool fileExists(const std::string &path) {
  std::error_code ignored;
  return std::filesystem::exists(path, ignored);
}

TensorPtr readTensor(const std::string &path) {
  sparq_tensor_t *raw = nullptr;
  check(sparq_tensor_read_file(path.c_str(), &raw));
  return TensorPtr(raw);
}

/// Files written under a temporary name, to be renamed into place; the destructor removes
/// the temporaries not renamed yet, on every way out of writeOutputs.
struct PendingFiles {
  std::vector<std::pair<std::string, std::string>> files; ///< temporary, destination
  size_t renamed = 0;
  ~PendingFiles() {
    for (size_t i = renamed; i < files.size(); ++i)
      ::unlink(files[i].first.c_str());
  }
};

/// Writes output_K.pb (and output_K.npy) into `dir`, all or nothing: each file is written
/// (and fsynced, by the runtime's writer) under a fresh hidden name in `dir`, and the files are
/// renamed into place only once every one of them was written. On failure the temporaries are
/// removed, existing outputs are left as they were, and the error names the failing file.
void writeOutputs(const std::string &dir, bool npy,
                  const std::vector<const sparq_tensor_t *> &outputs) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    throw Failure{"cannot create output directory '" + dir + "': " + error.message()};
  // mkstemp creates files readable by the owner only; give the outputs the usual mode.
  mode_t mask = ::umask(0);
  ::umask(mask);
  struct Format {
    const char *extension;
    sparq_status_t (*write)(const sparq_tensor_t *, const char *);
  };
  std::vector<Format> formats = {{".pb", sparq_tensor_write_pb}};
  if (npy)
    formats.push_back({".npy", sparq_tensor_write_npy});
  PendingFiles pending;
  for (size_t k = 0; k < outputs.size(); ++k) {
    for (const Format &format : formats) {
      std::string name = "output_" + std::to_string(k) + format.extension;
      std::string destination = joinPath(dir, name);
      if (std::filesystem::is_directory(destination, error))
        throw Failure{"cannot write '" + destination + "': it is a directory"};
      // mkstemp: a new file of our own, never an existing file or a planted symbolic link.
      std::string pattern = joinPath(dir, "." + name + ".tmp-XXXXXX");
      std::vector<char> temporary(pattern.begin(), pattern.end());
      temporary.push_back('\0');
      int fd = ::mkstemp(temporary.data());
      if (fd < 0) {
        int savedErrno = errno;
        throw Failure{"cannot create a temporary file for '" + destination +
                      "': " + std::strerror(savedErrno)};
      }
      ::close(fd);
      pending.files.emplace_back(temporary.data(), destination);
      if (sparq_status_t status = format.write(outputs[k], temporary.data())) {
        std::string message = sparq_status_message(status);
        sparq_status_free(status);
        throw Failure{"cannot write '" + destination + "': " + message};
      }
      if (::chmod(temporary.data(), 0666 & ~mask) != 0) {
        int savedErrno = errno;
        throw Failure{"cannot write '" + destination + "': chmod of '" + temporary.data() +
                      "' failed: " + std::strerror(savedErrno)};
      }
    }
  }
  for (const auto &[temporary, destination] : pending.files) {
    if (::rename(temporary.c_str(), destination.c_str()) != 0) {
      int savedErrno = errno;
      throw Failure{"cannot rename '" + temporary + "' to '" + destination +
                    "': " + std::strerror(savedErrno) +
                    (pending.renamed ? " (the outputs before it were already replaced)" : "")};
    }
    ++pending.renamed;
  }
}

/// Threads of the artifact's pool: --threads, else every CPU this process may run on.
int poolThreads(const Options &options) {
  if (options.threads > 0)
    return int(options.threads);
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  return 1;
}

void writeText(const std::string &path, const std::string &text, const char *what) {
  FILE *file = std::fopen(path.c_str(), "w");
  bool ok = file && std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (file && std::fclose(file) != 0)
    ok = false;
  if (!ok)
    throw Failure{std::string("cannot write the ") + what + " '" + path + "': " +
                  std::strerror(errno)};
}

/// The roofline for the pool's threads: from the cache file if it was measured on this CPU for
/// as many threads (unless `measure`), else measured and written there.
sparq::run::Roofline obtainRoofline(const Options &options, bool measure) {
  int threads = poolThreads(options);
  std::string path =
      options.roofline.empty() ? sparq::run::defaultRooflinePath(threads) : options.roofline;
  sparq::run::Roofline roofline;
  if (!measure && sparq::run::loadRoofline(path, threads, roofline)) {
    std::printf("roofline (%s): peak %.1f GFLOP/s, DRAM %.1f GB/s, cache %.1f GB/s, %d threads\n",
                path.c_str(), roofline.peakGflops, roofline.dramGBs, roofline.cacheGBs, threads);
    return roofline;
  }
  std::fprintf(stderr, "sparq-run: measuring this machine's roofline with %d threads...\n",
               threads);
  roofline = sparq::run::measureRoofline(threads);
  std::printf("roofline: peak %.1f GFLOP/s (%s), DRAM %.1f GB/s, cache %.1f GB/s, %d threads "
              "(written to %s)\n",
              roofline.peakGflops, roofline.isa.c_str(), roofline.dramGBs, roofline.cacheGBs,
              threads, path.c_str());
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty())
    std::filesystem::create_directories(parent, ec);
  writeText(path, sparq::run::formatRoofline(roofline), "roofline file");
  return roofline;
}


double medianOf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// --profile: runs the model (and the baseline, in alternation) and reports each kernel.
void runProfile(const Options &options, sparq_model_t *model, sparq_session_t *session,
                const std::vector<const sparq_tensor_t *> &bound) {
  struct Contender {
    std::string path;
    sparq_model_t *model;
    sparq_session_t *session;
    std::vector<double> seconds;
  };
  std::vector<Contender> contenders = {{options.model, model, session, {}}};
  std::unique_ptr<sparq_model_t, ModelDeleter> baselineModel;
  std::unique_ptr<sparq_session_t, SessionDeleter> baselineSession;
  if (!options.baseline.empty()) {
    sparq_model_t *raw = nullptr;
    check(sparq_model_load(options.baseline.c_str(), &raw), "--baseline");
    baselineModel.reset(raw);
    sparq_session_t *rawSession = nullptr;
    check(sparq_session_create(raw, &rawSession));
    baselineSession.reset(rawSession);
    for (size_t i = 0; i < bound.size(); ++i) {
      sparq_tensor_info_t info;
      check(sparq_model_input_info(model, i, &info));
      check(sparq_session_bind_input_by_name(rawSession, info.name, bound[i]),
            "--baseline '" + options.baseline + "'");
    }
    if (options.threads > 0)
      check(sparq_session_set_num_threads(rawSession, int(options.threads)));
    check(sparq_session_run(rawSession), "running '" + options.baseline + "'");
    contenders.push_back({options.baseline, raw, rawSession, {}});
  }
  sparq::run::Roofline roofline = obtainRoofline(options, false);
  for (Contender &c : contenders) {
    size_t count = 0;
    const sparq_kernel_profile_t *kernels = nullptr;
    check(sparq_model_profile(c.model, /*reset=*/1, &count, &kernels), "--profile");
  }
  long runs = options.bench > 0 ? options.bench : 10;
  // Alternate the contenders run by run, so a noisy stretch of the machine hits both alike.
  for (long i = 0; i < runs; ++i)
    for (Contender &c : contenders) {
      auto start = std::chrono::steady_clock::now();
      check(sparq_session_run(c.session), "running '" + c.path + "'");
      c.seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  std::vector<sparq::run::ProfileResult> results;
  for (Contender &c : contenders) {
    size_t count = 0;
    const sparq_kernel_profile_t *kernels = nullptr;
    check(sparq_model_profile(c.model, /*reset=*/0, &count, &kernels), "--profile");
    sparq::run::ProfileResult result;
    result.model = c.path;
    result.runs = runs;
    result.medianRunSeconds = medianOf(c.seconds);
    for (size_t k = 0; k < count; ++k)
      result.kernels.push_back({kernels[k].kind, kernels[k].name, kernels[k].flops,
                                kernels[k].bytes, double(kernels[k].calls) / double(runs),
                                kernels[k].seconds / double(runs)});
    std::sort(c.seconds.begin(), c.seconds.end());
    std::printf("latency of %s: min %.3f ms, median %.3f ms, max %.3f ms (%ld runs)\n",
                c.path.c_str(), c.seconds.front() * 1e3, result.medianRunSeconds * 1e3,
                c.seconds.back() * 1e3, runs);
    results.push_back(std::move(result));
  }
  for (const sparq::run::ProfileResult &result : results)
    sparq::run::printProfile(stdout, result, roofline);
  const sparq::run::ProfileResult *baseline = results.size() > 1 ? &results[1] : nullptr;
  if (baseline)
    std::printf("%s is %.2fx as fast as %s (median run times)\n", results[0].model.c_str(),
                baseline->medianRunSeconds / results[0].medianRunSeconds,
                baseline->model.c_str());
  if (!options.profileJson.empty())
    writeText(options.profileJson, sparq::run::profileJson(results[0], baseline, roofline),
              "profile JSON");
  if (!options.profileSvg.empty())
    writeText(options.profileSvg, sparq::run::profileSvg(results[0], baseline, roofline),
              "profile picture");
}

int runMain(const Options &options) {
  if (options.measureRoofline) {
    obtainRoofline(options, true);
    return 0;
  }
  sparq_model_t *rawModel = nullptr;
  check(sparq_model_load(options.model.c_str(), &rawModel));
  std::unique_ptr<sparq_model_t, ModelDeleter> model(rawModel);
  sparq_session_t *rawSession = nullptr;
  check(sparq_session_create(model.get(), &rawSession));
  std::unique_ptr<sparq_session_t, SessionDeleter> session(rawSession);
  size_t numInputs = 0, numOutputs = 0;
  check(sparq_model_num_inputs(model.get(), &numInputs));
  check(sparq_model_num_outputs(model.get(), &numOutputs));

  // Inputs; bound[i] is input i's tensor.
  std::vector<TensorPtr> inputs;
  std::vector<const sparq_tensor_t *> bound(numInputs, nullptr);
  if (!options.inputsDir.empty()) {
    if (!std::filesystem::is_directory(options.inputsDir))
      throw Failure{"--inputs '" + options.inputsDir + "' is not a directory"};
    for (size_t i = 0; i < numInputs; ++i) {
      std::string path = joinPath(options.inputsDir, "input_" + std::to_string(i) + ".pb");
      inputs.push_back(readTensor(path));
      check(sparq_session_bind_input(session.get(), i, inputs.back().get()), path);
      bound[i] = inputs.back().get();
    }
    std::string extra = joinPath(options.inputsDir, "input_" + std::to_string(numInputs) + ".pb");
    if (fileExists(extra))
      throw Failure{"'" + extra + "' exists but model '" + options.model + "' has " +
                    std::to_string(numInputs) + " inputs"};
  } else {
    if (options.inputs.empty() && numInputs > 0)
      throw UsageError{"model '" + options.model + "' has " + std::to_string(numInputs) +
                       " inputs: give --inputs DIR or --input NAME=FILE"};
    std::vector<bool> given(numInputs, false);
    for (const auto &input : options.inputs) {
      size_t index = 0;
      check(sparq_model_find_input(model.get(), input.first.c_str(), &index),
            "--input " + input.first);
      inputs.push_back(readTensor(input.second));
      check(sparq_session_bind_input(session.get(), index, inputs.back().get()), input.second);
      given[index] = true;
      bound[index] = inputs.back().get();
    }
    for (size_t i = 0; i < numInputs; ++i) {
      if (given[i])
        continue;
      sparq_tensor_info_t info;
      check(sparq_model_input_info(model.get(), i, &info));
      throw Failure{"input '" + std::string(info.name) + "' (#" + std::to_string(i) +
                    ") not given (use --input " + info.name + "=FILE)"};
    }
  }

  if (options.threads > 0)
    check(sparq_session_set_num_threads(session.get(), int(options.threads)));

  // Run once: this is also the benchmark's warm-up run.
  check(sparq_session_run(session.get()), "running '" + options.model + "'");
  std::vector<const sparq_tensor_t *> outputs(numOutputs);
  for (size_t k = 0; k < numOutputs; ++k) {
    check(sparq_session_output(session.get(), k, &outputs[k]));
    printOutput(k, outputs[k]);
  }

  if (!options.outputDir.empty())
    writeOutputs(options.outputDir, options.npy, outputs);

  bool mismatch = false;
  if (!options.expectDir.empty()) {
    if (!std::filesystem::is_directory(options.expectDir))
      throw Failure{"--expect '" + options.expectDir + "' is not a directory"};
    for (size_t k = 0; k < numOutputs; ++k) {
      TensorPtr expected =
          readTensor(joinPath(options.expectDir, "output_" + std::to_string(k) + ".pb"));
      if (!compareOutput(k, outputs[k], expected.get(), options.rtol, options.atol))
        mismatch = true;
    }
    std::string extra =
        joinPath(options.expectDir, "output_" + std::to_string(numOutputs) + ".pb");
    if (fileExists(extra))
      throw Failure{"'" + extra + "' exists but model '" + options.model + "' has " +
                    std::to_string(numOutputs) + " outputs"};
  }
  std::fflush(stdout);

  // Artifacts from before the allocator counted their buffers do not report it.
  int64_t peakBytes = 0;
  if (sparq_status_t status = sparq_session_peak_bytes(session.get(), &peakBytes))
    sparq_status_free(status);
  else
    std::printf("peak buffer memory: %lld bytes (%.2f MiB)\n", static_cast<long long>(peakBytes),
                double(peakBytes) / (1 << 20));

  if (options.profile) {
    runProfile(options, model.get(), session.get(), bound);
  } else if (options.bench > 0) {
    std::vector<double> times;
    size_t flushed = 0;
    for (long i = 0; i < options.bench; ++i) {
      if (options.cold) {
        std::string error;
        std::optional<size_t> bytes = sparq::run::evictLoadedArtifact(options.model, error);
        if (!bytes)
          throw Failure{"--cold: " + error};
        flushed = *bytes;
      }
      auto start = std::chrono::steady_clock::now();
      check(sparq_session_run(session.get()), "running '" + options.model + "'");
      auto end = std::chrono::steady_clock::now();
      times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    double median = medianOf(times);
    std::sort(times.begin(), times.end());
    std::printf("latency: min %.3f ms, median %.3f ms, max %.3f ms (%zu runs%s)\n",
                times.front(), median, times.back(), times.size(),
                options.cold ? ", cold: artifact flushed from the caches before each" : "");
    if (options.cold)
      std::printf("cold: %zu bytes of the artifact flushed before each run\n", flushed);
  }
  return mismatch ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  // A file-size limit (ulimit -f) then makes a write fail with EFBIG, which is reported, instead
  // of killing the process half-way through its outputs.
  std::signal(SIGXFSZ, SIG_IGN);
  Options options;
  try {
    options = parseArgs(argc, argv);
  } catch (const UsageError &error) {
    std::fprintf(stderr, "sparq-run: error: %s\n%s\n", error.message.c_str(), usageLine);
    return 2;
  }
  try {
    return runMain(options);
  } catch (const UsageError &error) {
    std::fflush(stdout);
    std::fprintf(stderr, "sparq-run: error: %s\n%s\n", error.message.c_str(), usageLine);
    return 2;
  } catch (const Failure &failure) {
    std::fflush(stdout);
    std::fprintf(stderr, "sparq-run: error: %s\n", failure.message.c_str());
  } catch (const std::bad_alloc &) {
    std::fflush(stdout);
    std::fprintf(stderr, "sparq-run: error: out of memory\n");
  } catch (const std::exception &error) {
    std::fflush(stdout);
    std::fprintf(stderr, "sparq-run: error: %s\n", error.what());
  }
  return 1;
}
