//===- runtime/src/TensorFile.cpp - whole-file I/O and format dispatch -*- C++ -*-===//
//
// Reading and writing whole files with errors that name the path, and
// sparq_tensor_read_file, which picks the .pb or .npy reader by extension.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <sys/stat.h>

using namespace sparq::runtime;

namespace sparq {
namespace runtime {

sparq_status_t readTensorFile(const char *api, const char *path, sparq_tensor_t **out_tensor,
                              sparq_status_t (*decode)(const void *, size_t, const char *,
                                                       sparq_tensor_t **)) {
  if (!path || !out_tensor)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string(api) + ": " + (!path ? "path" : "out_tensor") + " is NULL");
  std::vector<uint8_t> bytes;
  try {
    if (sparq_status_t status = readWholeFile(path, bytes))
      return status;
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      "file '" + std::string(path) + "': out of memory reading it");
  }
  return decode(bytes.data(), bytes.size(), path, out_tensor);
}

sparq_status_t readWholeFile(const char *path, std::vector<uint8_t> &out) {
  auto fail = [&](sparq_status_code_t code, const std::string &what) {
    return makeStatus(code, "file '" + std::string(path) + "': " + what);
  };
  struct stat info;
  if (stat(path, &info) != 0)
    return fail(errno == ENOENT ? SPARQ_STATUS_NOT_FOUND : SPARQ_STATUS_IO_ERROR,
                std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    return fail(SPARQ_STATUS_INVALID_ARGUMENT, "is a directory");
  std::FILE *file = std::fopen(path, "rb");
  if (!file)
    return fail(errno == ENOENT ? SPARQ_STATUS_NOT_FOUND : SPARQ_STATUS_IO_ERROR,
                std::strerror(errno));
  out.clear();
  unsigned char buffer[1 << 16];
  while (true) {
    size_t got = std::fread(buffer, 1, sizeof(buffer), file);
    out.insert(out.end(), buffer, buffer + got);
    if (got < sizeof(buffer))
      break;
  }
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed)
    return fail(SPARQ_STATUS_IO_ERROR, "read error after " + std::to_string(out.size()) + " bytes");
  return nullptr;
}

sparq_status_t writeWholeFile(const char *path, const void *data, size_t size) {
  std::FILE *file = std::fopen(path, "wb");
  if (!file)
    return makeStatus(SPARQ_STATUS_IO_ERROR, "file '" + std::string(path) +
                                                 "': cannot open for writing: " +
                                                 std::strerror(errno));
  bool ok = size == 0 || std::fwrite(data, 1, size, file) == size;
  int savedErrno = errno;
  ok = (std::fclose(file) == 0) && ok;
  if (!ok)
    return makeStatus(SPARQ_STATUS_IO_ERROR, "file '" + std::string(path) +
                                                 "': write failed: " + std::strerror(savedErrno));
  return nullptr;
}

} // namespace runtime
} // namespace sparq

extern "C" {

sparq_status_t sparq_tensor_read_file(const char *path, sparq_tensor_t **out_tensor) {
  if (!path || !out_tensor)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string("sparq_tensor_read_file: ") +
                          (!path ? "path" : "out_tensor") + " is NULL");
  size_t length = std::strlen(path);
  auto endsWith = [&](const char *suffix) {
    size_t n = std::strlen(suffix);
    return length >= n && std::strcmp(path + length - n, suffix) == 0;
  };
  if (endsWith(".pb"))
    return sparq_tensor_read_pb(path, out_tensor);
  if (endsWith(".npy"))
    return sparq_tensor_read_npy(path, out_tensor);
  return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                    "file '" + std::string(path) +
                        "': unknown tensor file extension (expected .pb or .npy)");
}

} // extern "C"
