//===- runtime/src/TensorFile.cpp - whole-file I/O and format dispatch -*- C++ -*-===//
//
// Reading and writing whole files with errors that name the path, and
// sparq_tensor_read_file, which picks the .pb or .npy reader by extension. Readers open
// without blocking and refuse devices and directories; writers never leave a truncated file.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cerrno>
#include <cstring>
#include <new>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace sparq::runtime;

namespace {

/// What a file that is not a regular file is, for messages.
std::string describeFileType(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

} // namespace

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

sparq_status_t openForReading(const char *path, const std::string &subject, bool allowPipes,
                              UniqueFd &fd, struct stat &info) {
  auto fail = [&](sparq_status_code_t code, const std::string &why) {
    return makeStatus(code, subject + ": " + why);
  };
  auto failErrno = [&](int error) {
    return fail(error == ENOENT ? SPARQ_STATUS_NOT_FOUND : SPARQ_STATUS_IO_ERROR,
                std::strerror(error));
  };
  auto accepted = [&](mode_t mode) { return S_ISREG(mode) || (allowPipes && S_ISFIFO(mode)); };
  auto refuse = [&](mode_t mode) {
    return fail(SPARQ_STATUS_INVALID_ARGUMENT,
                S_ISDIR(mode) ? std::string("is a directory")
                              : "is not a regular file (it is " + describeFileType(mode) + ")");
  };
  // stat first, so that a device is never opened (opening some has side effects).
  struct stat before;
  if (::stat(path, &before) != 0)
    return failErrno(errno);
  if (!accepted(before.st_mode))
    return refuse(before.st_mode);
  UniqueFd opened(::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (opened.get() < 0)
    return failErrno(errno);
  // The path may have been replaced since the stat: check what was actually opened.
  if (::fstat(opened.get(), &info) != 0)
    return failErrno(errno);
  if (!accepted(info.st_mode))
    return refuse(info.st_mode);
  // Blocking reads from here on: a pipe's writer may be slower than the reader. A FIFO without
  // a writer reads as end-of-file at once.
  int flags = ::fcntl(opened.get(), F_GETFL);
  if (flags < 0 || ::fcntl(opened.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
    return failErrno(errno);
  fd.reset(opened.release());
  return nullptr;
}

sparq_status_t readWholeFile(const char *path, std::vector<uint8_t> &out) {
  UniqueFd fd;
  struct stat info;
  if (sparq_status_t status =
          openForReading(path, "file '" + std::string(path) + "'", /*allowPipes=*/true, fd, info))
    return status;
  out.clear();
  if (S_ISREG(info.st_mode) && info.st_size > 0)
    out.reserve(size_t(info.st_size));
  unsigned char buffer[1 << 16];
  while (true) {
    ssize_t got = ::read(fd.get(), buffer, sizeof(buffer));
    if (got < 0) {
      int error = errno;
      if (error == EINTR)
        continue;
      return makeStatus(SPARQ_STATUS_IO_ERROR, "file '" + std::string(path) +
                                                   "': read error after " +
                                                   std::to_string(out.size()) +
                                                   " bytes: " + std::strerror(error));
    }
    if (got == 0)
      return nullptr;
    out.insert(out.end(), buffer, buffer + got);
  }
}

sparq_status_t writeWholeFile(const char *path, const void *data, size_t size) {
  auto fail = [&](const std::string &step, int error) {
    return makeStatus(SPARQ_STATUS_IO_ERROR,
                      "file '" + std::string(path) + "': " + step + ": " + std::strerror(error));
  };
  // O_NONBLOCK: opening a FIFO that nobody reads fails with ENXIO instead of blocking.
  UniqueFd fd(::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                     0666));
  if (fd.get() < 0)
    return fail("cannot open for writing", errno);
  struct stat info;
  bool regular = ::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode);
  // Each failing call's errno is captured right after it, before anything else can change it.
  std::string step;
  int error = 0;
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    error = errno;
    step = "cannot open for writing";
  }
  const char *bytes = static_cast<const char *>(data);
  size_t done = 0;
  while (!error && done < size) {
    ssize_t wrote = ::write(fd.get(), bytes + done, size - done);
    if (wrote < 0 && errno == EINTR)
      continue;
    if (wrote <= 0) {
      error = wrote < 0 ? errno : EIO;
      step = "write failed after " + std::to_string(done) + " of " + std::to_string(size) +
             " bytes";
    } else {
      done += size_t(wrote);
    }
  }
  if (!error && regular && ::fsync(fd.get()) != 0) {
    error = errno;
    step = "fsync failed";
  }
  if (::close(fd.release()) != 0 && !error) {
    error = errno;
    step = "close failed";
  }
  if (!error)
    return nullptr;
  if (regular)
    ::unlink(path); // never leave a truncated file behind
  return fail(step, error);
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
