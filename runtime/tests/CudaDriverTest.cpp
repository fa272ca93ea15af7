//===- runtime/tests/CudaDriverTest.cpp - the CUDA driver loaded at run time ===//

#include "CudaDriver.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

using namespace sparq::cuda;

// Without a driver the loader reports why, in words a user can act on, and does not crash; the
// runtime itself never links libcuda (checked by this test binary starting at all).
TEST(CudaDriver, MissingDriverIsAClearError) {
  if (void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(lib);
    GTEST_SKIP() << "this machine has a CUDA driver";
  }
  std::string why;
  EXPECT_EQ(loadDriver(&why), nullptr);
  EXPECT_NE(why.find("libcuda.so.1"), std::string::npos) << why;
  EXPECT_NE(why.find("NVIDIA GPU"), std::string::npos) << why;
  // Asking again gives the same answer (loaded once per process).
  std::string again;
  EXPECT_EQ(loadDriver(&again), nullptr);
  EXPECT_EQ(again, why);
}

TEST(CudaDriver, PresentDriverResolvesEveryEntryPoint) {
  std::string why;
  const Driver *d = loadDriver(&why);
  if (!d)
    GTEST_SKIP() << why;
  EXPECT_NE(d->launchKernel, nullptr);
  EXPECT_NE(d->eventElapsedTime, nullptr);
  int version = 0;
  EXPECT_EQ(d->driverGetVersion(&version), 0);
  EXPECT_GT(version, 0);
}
