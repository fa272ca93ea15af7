//===- runtime/tests/KernelTestUtil.h - helpers for the kernel tests ---*- C++ -*-===//
//
// What the micro-kernel tests share: skipping (not failing) on a host without the ISA of the
// kernel variant under test (SPARQ_KERNELS_TEST_VLEN), and a buffer whose end abuts an
// inaccessible page so that a kernel reading past its input faults.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_TESTS_KERNELTESTUTIL_H
#define SPARQ_RUNTIME_TESTS_KERNELTESTUTIL_H

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace sparq::test {

/// Why this host cannot run the variant under test (with AVX-512 VNNI too when `vnni`), or "".
inline std::string missingKernelIsa(bool vnni = false) {
  __builtin_cpu_init();
#if SPARQ_KERNELS_TEST_VLEN == 16
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") ||
      !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512bw"))
    return "host CPU lacks AVX-512 (avx512f/vl/dq/bw); the v16 kernels cannot run here";
  if (vnni && !__builtin_cpu_supports("avx512vnni"))
    return "host CPU lacks AVX-512 VNNI; the v16 int8 kernel tests cannot run here";
#else
  (void)vnni;
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return "host CPU lacks AVX2/FMA; the v8 kernels cannot run here";
#endif
  return "";
}

/// A test fixture skipped on a host without the variant's ISA.
class KernelTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why = missingKernelIsa();
    if (!why.empty())
      GTEST_SKIP() << why;
  }
};

/// Bytes whose end abuts an inaccessible page.
class GuardedBytes {
public:
  explicit GuardedBytes(size_t size) : size_(size) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    mapped_ = (size + page - 1) / page * page + page;
    base_ = static_cast<uint8_t *>(
        mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED) {
      std::perror("mmap");
      std::abort();
    }
    mprotect(base_ + mapped_ - page, page, PROT_NONE);
    data_ = base_ + mapped_ - page - size;
  }
  ~GuardedBytes() { munmap(base_, mapped_); }
  GuardedBytes(const GuardedBytes &) = delete;
  GuardedBytes &operator=(const GuardedBytes &) = delete;
  uint8_t *data() { return data_; }
  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }

private:
  size_t size_, mapped_;
  uint8_t *base_, *data_;
};

} // namespace sparq::test

#endif // SPARQ_RUNTIME_TESTS_KERNELTESTUTIL_H
