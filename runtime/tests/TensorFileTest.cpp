//===- runtime/tests/TensorFileTest.cpp - tensor files on odd paths -*- C++ -*-===//
//
// Reading from a FIFO nobody writes to, a pipe, a device and a directory; writing to a full
// device (/dev/full), past a file-size limit, under a regular file and into a FIFO nobody
// reads. Readers and writers must return an error naming the file and the errno of the call
// that failed, never hang, and never leave a truncated file behind. (The failures are
// provoked without permissions, so the tests hold when run as root.)
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

using namespace sparq::runtime::test;

namespace {

bool exists(const std::string &path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TensorPtr floats(int64_t count) {
  sparq_tensor_t *raw = nullptr;
  EXPECT_EQ(sparq_tensor_create(SPARQ_ELEMENT_TYPE_FLOAT32, 1, &count, nullptr, &raw), nullptr);
  return TensorPtr(raw);
}

TEST(TensorFileRead, FifoWithoutWriterDoesNotBlock) {
  TempDir dir;
  Watchdog watchdog(30);
  for (const char *name : {"x.pb", "x.npy"}) {
    std::string path = dir.file(name);
    ASSERT_EQ(mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
    sparq_tensor_t *raw = nullptr;
    StatusInfo info = take(sparq_tensor_read_file(path.c_str(), &raw));
    EXPECT_FALSE(info.ok);
    EXPECT_EQ(raw, nullptr);
    EXPECT_EQ(info.message.rfind("file '" + path + "': ", 0), 0u) << info.message;
  }
}

TEST(TensorFileRead, PipeIsReadToTheEnd) {
  // `--input x=<(command)` hands sparq-run a pipe: it must keep working.
  TempDir dir;
  TensorPtr tensor = floats(3);
  std::string path = dir.file("t.pb");
  SPARQ_ASSERT_OK(sparq_tensor_write_pb(tensor.get(), path.c_str()));
  std::vector<uint8_t> bytes = readBytes(path);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], bytes.data(), bytes.size()), ssize_t(bytes.size()));
  close(fds[1]);
  std::string pipePath = "/proc/self/fd/" + std::to_string(fds[0]);
  if (!exists(pipePath)) {
    close(fds[0]);
    GTEST_SKIP() << "no /proc/self/fd";
  }
  sparq_tensor_t *raw = nullptr;
  StatusInfo info = take(sparq_tensor_read_pb(pipePath.c_str(), &raw));
  close(fds[0]);
  TensorPtr back(raw);
  ASSERT_TRUE(info.ok) << info.message;
  EXPECT_EQ(dimsOf(raw), (std::vector<int64_t>{3}));
}

TEST(TensorFileRead, DevicesAndDirectoriesAreRefused) {
  sparq_tensor_t *raw = nullptr;
  if (exists("/dev/zero")) {
    StatusInfo info = take(sparq_tensor_read_pb("/dev/zero", &raw));
    EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(info.message, "file '/dev/zero': is not a regular file (it is a character device)");
  }
  TempDir dir;
  std::string directory = dir.file("d.npy");
  ASSERT_EQ(mkdir(directory.c_str(), 0700), 0);
  StatusInfo info = take(sparq_tensor_read_npy(directory.c_str(), &raw));
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, "file '" + directory + "': is a directory");
  EXPECT_EQ(raw, nullptr);
}

TEST(TensorFileWrite, FullDeviceReportsENOSPC) {
  if (!exists("/dev/full"))
    GTEST_SKIP() << "no /dev/full";
  TensorPtr tensor = floats(4); // 6 header bytes + 16 data bytes as .pb
  StatusInfo info = take(sparq_tensor_write_pb(tensor.get(), "/dev/full"));
  EXPECT_EQ(info.code, SPARQ_STATUS_IO_ERROR);
  EXPECT_EQ(info.message, std::string("file '/dev/full': write failed after 0 of 22 bytes: ") +
                              std::strerror(ENOSPC));
  info = take(sparq_tensor_write_npy(tensor.get(), "/dev/full"));
  EXPECT_TRUE(endsWith(info.message, std::strerror(ENOSPC))) << info.message;
  EXPECT_TRUE(exists("/dev/full")); // a device is never removed
}

TEST(TensorFileWrite, FileSizeLimitLeavesNoTruncatedFile) {
  // RLIMIT_FSIZE makes write() fail with EFBIG past the limit (SIGXFSZ ignored), root or not.
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = 1000;
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  TempDir dir;
  TensorPtr tensor = floats(1024); // 4 KiB of data
  std::string pb = dir.file("big.pb"), npy = dir.file("big.npy");
  writeBytes(pb, {'o', 'l', 'd'}); // an existing file is replaced, or removed on failure
  StatusInfo pbInfo = take(sparq_tensor_write_pb(tensor.get(), pb.c_str()));
  StatusInfo npyInfo = take(sparq_tensor_write_npy(tensor.get(), npy.c_str()));
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  EXPECT_EQ(pbInfo.code, SPARQ_STATUS_IO_ERROR);
  EXPECT_EQ(pbInfo.message, "file '" + pb + "': write failed after 1000 of 4104 bytes: " +
                                std::strerror(EFBIG));
  EXPECT_EQ(npyInfo.message, "file '" + npy + "': write failed after 1000 of 4224 bytes: " +
                                 std::strerror(EFBIG));
  EXPECT_FALSE(exists(pb));
  EXPECT_FALSE(exists(npy));
}

TEST(TensorFileWrite, ParentThatIsAFileReportsENOTDIR) {
  TempDir dir;
  std::string file = dir.file("plain");
  writeBytes(file, {'x'});
  TensorPtr tensor = floats(1);
  std::string path = file + "/out.pb";
  StatusInfo info = take(sparq_tensor_write_pb(tensor.get(), path.c_str()));
  EXPECT_EQ(info.code, SPARQ_STATUS_IO_ERROR);
  EXPECT_EQ(info.message,
            "file '" + path + "': cannot open for writing: " + std::strerror(ENOTDIR));
}

TEST(TensorFileWrite, FifoWithoutReaderDoesNotBlock) {
  TempDir dir;
  std::string path = dir.file("out.pb");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
  Watchdog watchdog(30);
  TensorPtr tensor = floats(1);
  StatusInfo info = take(sparq_tensor_write_pb(tensor.get(), path.c_str()));
  EXPECT_EQ(info.code, SPARQ_STATUS_IO_ERROR);
  EXPECT_EQ(info.message,
            "file '" + path + "': cannot open for writing: " + std::strerror(ENXIO));
  EXPECT_TRUE(exists(path)); // only regular files are removed
}

} // namespace
