//===- runtime/src/CudaDriver.cpp - dlopen of the CUDA driver ---------------===//

#include "CudaDriver.h"

#include <dlfcn.h>

#include <mutex>

namespace sparq::cuda {
namespace {

struct Loaded {
  Driver driver{};
  bool ok = false;
  std::string why;
};

/// Resolves the first of `names` that libcuda exports (versioned names first: the unversioned
/// symbols keep the ABI of the oldest drivers).
template <typename Fn>
bool resolve(void *lib, Fn &fn, std::initializer_list<const char *> names, std::string &why) {
  for (const char *name : names)
    if (void *sym = dlsym(lib, name)) {
      fn = reinterpret_cast<Fn>(sym);
      return true;
    }
  why = std::string("libcuda.so.1 has no ") + *names.begin();
  return false;
}

Loaded load() {
  Loaded l;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *e = dlerror();
    l.why = std::string("the CUDA driver (libcuda.so.1) cannot be loaded: ") + (e ? e : "unknown error") +
            "; CUDA needs an NVIDIA GPU and its driver";
    return l;
  }
  Driver &d = l.driver;
  std::string &w = l.why;
  bool ok = resolve(lib, d.init, {"cuInit"}, w) && resolve(lib, d.driverGetVersion, {"cuDriverGetVersion"}, w) &&
            resolve(lib, d.deviceGetCount, {"cuDeviceGetCount"}, w) && resolve(lib, d.deviceGet, {"cuDeviceGet"}, w) &&
            resolve(lib, d.deviceGetName, {"cuDeviceGetName"}, w) &&
            resolve(lib, d.deviceGetAttribute, {"cuDeviceGetAttribute"}, w) &&
            resolve(lib, d.primaryCtxRetain, {"cuDevicePrimaryCtxRetain"}, w) &&
            resolve(lib, d.primaryCtxRelease, {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}, w) &&
            resolve(lib, d.ctxSetCurrent, {"cuCtxSetCurrent"}, w) &&
            resolve(lib, d.ctxSynchronize, {"cuCtxSynchronize"}, w) &&
            resolve(lib, d.moduleLoadData, {"cuModuleLoadData"}, w) &&
            resolve(lib, d.moduleUnload, {"cuModuleUnload"}, w) &&
            resolve(lib, d.moduleGetFunction, {"cuModuleGetFunction"}, w) &&
            resolve(lib, d.memAlloc, {"cuMemAlloc_v2"}, w) && resolve(lib, d.memFree, {"cuMemFree_v2"}, w) &&
            resolve(lib, d.memcpyHtoD, {"cuMemcpyHtoD_v2"}, w) &&
            resolve(lib, d.memcpyDtoH, {"cuMemcpyDtoH_v2"}, w) &&
            resolve(lib, d.memcpyDtoDAsync, {"cuMemcpyDtoDAsync_v2"}, w) &&
            resolve(lib, d.memsetD32Async, {"cuMemsetD32Async"}, w) &&
            resolve(lib, d.launchKernel, {"cuLaunchKernel"}, w) &&
            resolve(lib, d.eventCreate, {"cuEventCreate"}, w) &&
            resolve(lib, d.eventDestroy, {"cuEventDestroy_v2", "cuEventDestroy"}, w) &&
            resolve(lib, d.eventRecord, {"cuEventRecord"}, w) &&
            resolve(lib, d.eventSynchronize, {"cuEventSynchronize"}, w) &&
            resolve(lib, d.eventElapsedTime, {"cuEventElapsedTime_v2", "cuEventElapsedTime"}, w) &&
            resolve(lib, d.getErrorName, {"cuGetErrorName"}, w) &&
            resolve(lib, d.getErrorString, {"cuGetErrorString"}, w);
  if (!ok)
    return l;
  if (CUresult r = d.init(0)) {
    l.why = "cuInit failed: " + resultText(d, r);
    return l;
  }
  l.ok = true;
  return l;
}

} // namespace

const Driver *loadDriver(std::string *why) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = load(); });
  if (!loaded.ok) {
    if (why)
      *why = loaded.why;
    return nullptr;
  }
  return &loaded.driver;
}

std::string resultText(const Driver &d, CUresult r) {
  const char *name = nullptr, *desc = nullptr;
  d.getErrorName(r, &name);
  d.getErrorString(r, &desc);
  return std::string(name ? name : "CUDA_ERROR_" + std::to_string(r)) + " (" + (desc ? desc : "no description") + ")";
}

} // namespace sparq::cuda
