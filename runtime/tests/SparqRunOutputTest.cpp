//===- runtime/tests/SparqRunOutputTest.cpp - sparq-run --output-dir failures -*- C++ -*-===//
//
// Runs the sparq-run executable on fake_add.so with --output-dir and makes one of its writes
// fail: a file-size limit (RLIMIT_FSIZE, which holds for root too) lets output_0.pb through
// and stops output_0.npy. sparq-run must exit 1 (not die of SIGXFSZ), name the file that
// failed with the right errno, leave what the directory held before untouched and leave no
// temporary files. Without a failure every output appears, with the usual permissions.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

using namespace sparq::runtime::test;

namespace {

struct RunResult {
  int status = -1; ///< from waitpid
  std::string out, err;
};

std::string readAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t got;
  while ((got = read(fd, buffer, sizeof(buffer))) > 0 || (got < 0 && errno == EINTR))
    if (got > 0)
      text.append(buffer, size_t(got));
  return text;
}

/// Runs sparq-run with `args`; with `fileSizeLimit` > 0, under that RLIMIT_FSIZE. stdout and
/// stderr go to pipes, which the limit does not apply to.
RunResult runSparqRun(const std::vector<std::string> &args, rlim_t fileSizeLimit = 0) {
  int out[2], err[2];
  RunResult result;
  if (pipe(out) != 0 || pipe(err) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return result;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    if (fileSizeLimit > 0) {
      struct rlimit limit = {fileSizeLimit, fileSizeLimit};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    std::vector<char *> argv = {const_cast<char *>(SPARQ_RUN)};
    for (const std::string &arg : args)
      argv.push_back(const_cast<char *>(arg.c_str()));
    argv.push_back(nullptr);
    execv(SPARQ_RUN, argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  result.out = readAll(out[0]);
  result.err = readAll(err[0]);
  close(out[0]);
  close(err[0]);
  waitpid(pid, &result.status, 0);
  return result;
}

std::set<std::string> listDir(const std::string &path) {
  std::set<std::string> names;
  if (DIR *dir = opendir(path.c_str())) {
    while (struct dirent *entry = readdir(dir))
      if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
        names.insert(entry->d_name);
    closedir(dir);
  }
  return names;
}

/// Writes fake_add's inputs a.pb and b.pb (float32 2x3) into `dir`.
void writeInputs(const TempDir &dir) {
  int64_t dims[2] = {2, 3};
  float values[6] = {1, 2, 3, 4, 5, 6};
  for (const char *name : {"a.pb", "b.pb"}) {
    sparq_tensor_t *raw = nullptr;
    SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, values, &raw));
    TensorPtr tensor(raw);
    SPARQ_ASSERT_OK(sparq_tensor_write_pb(raw, dir.file(name).c_str()));
  }
}

std::vector<std::string> addArgs(const TempDir &dir, const std::string &outputDir) {
  return {SPARQ_RT_FAKE_ADD, "--input", "a=" + dir.file("a.pb"), "--input",
          "b=" + dir.file("b.pb"), "--output-dir", outputDir, "--npy"};
}

bool exitedWith(const RunResult &result, int code) {
  return WIFEXITED(result.status) && WEXITSTATUS(result.status) == code;
}

TEST(SparqRunOutputDir, WritesEveryOutputWithTheUsualMode) {
  TempDir dir;
  writeInputs(dir);
  std::string outputDir = dir.file("out");
  RunResult result = runSparqRun(addArgs(dir, outputDir));
  ASSERT_TRUE(exitedWith(result, 0)) << result.err;
  EXPECT_EQ(listDir(outputDir), (std::set<std::string>{"output_0.npy", "output_0.pb"}));
  mode_t mask = umask(0);
  umask(mask);
  for (const char *name : {"output_0.pb", "output_0.npy"}) {
    struct stat info;
    ASSERT_EQ(stat((outputDir + "/" + name).c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0666 & ~mask) << name;
    sparq_tensor_t *raw = nullptr;
    SPARQ_EXPECT_OK(sparq_tensor_read_file((outputDir + "/" + name).c_str(), &raw));
    sparq_tensor_destroy(raw);
  }
}

TEST(SparqRunOutputDir, AFailedWriteKeepsTheOldOutputsAndNoTemporaries) {
  TempDir dir;
  writeInputs(dir);
  std::string outputDir = dir.file("out");
  ASSERT_EQ(mkdir(outputDir.c_str(), 0700), 0);
  std::string oldPb = outputDir + "/output_0.pb";
  writeBytes(oldPb, {'o', 'l', 'd'});
  // output_0.pb is 37 bytes and fits under 100; output_0.npy (152 bytes) does not.
  RunResult result = runSparqRun(addArgs(dir, outputDir), 100);
  ASSERT_TRUE(exitedWith(result, 1))
      << "status " << result.status << " (signal " << WTERMSIG(result.status) << ")\n"
      << result.err;
  std::string prefix = "sparq-run: error: cannot write '" + outputDir +
                       "/output_0.npy': file '" + outputDir + "/.output_0.npy.tmp-";
  EXPECT_EQ(result.err.rfind(prefix, 0), 0u) << result.err;
  std::string suffix = std::string("': write failed after 100 of 152 bytes: ") +
                       std::strerror(EFBIG) + "\n";
  EXPECT_TRUE(result.err.size() > suffix.size() &&
              result.err.compare(result.err.size() - suffix.size(), suffix.size(), suffix) == 0)
      << result.err;
  // Nothing was replaced, nothing was added.
  EXPECT_EQ(listDir(outputDir), std::set<std::string>{"output_0.pb"});
  EXPECT_EQ(readBytes(oldPb), (std::vector<uint8_t>{'o', 'l', 'd'}));
}

TEST(SparqRunOutputDir, AnOutputPathThatIsADirectoryIsReportedFirst) {
  TempDir dir;
  writeInputs(dir);
  std::string outputDir = dir.file("out");
  ASSERT_EQ(mkdir(outputDir.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((outputDir + "/output_0.npy").c_str(), 0700), 0);
  RunResult result = runSparqRun(addArgs(dir, outputDir));
  ASSERT_TRUE(exitedWith(result, 1)) << result.err;
  EXPECT_EQ(result.err,
            "sparq-run: error: cannot write '" + outputDir + "/output_0.npy': it is a directory\n");
  EXPECT_EQ(listDir(outputDir), std::set<std::string>{"output_0.npy"});
}

TEST(SparqRunOutputDir, AnOutputDirUnderAFileIsReported) {
  TempDir dir;
  writeInputs(dir);
  std::string file = dir.file("plain");
  writeBytes(file, {'x'});
  RunResult result = runSparqRun(addArgs(dir, file + "/out"));
  ASSERT_TRUE(exitedWith(result, 1)) << result.err;
  EXPECT_EQ(result.err.rfind("sparq-run: error: cannot create output directory '" + file +
                                 "/out': ",
                             0),
            0u)
      << result.err;
}

} // namespace
