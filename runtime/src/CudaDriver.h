//===- runtime/src/CudaDriver.h - the CUDA driver API, loaded at run time -*- C++ -*-===//
//
// The runtime never links libcuda: it opens "libcuda.so.1" with dlopen the first time a CUDA
// feature is used, so the runtime and every CPU artifact start on machines without a GPU or
// driver. The few driver types and entry points the runtime uses are declared here with the
// driver API's ABI (CUresult is an int, handles are opaque pointers, device addresses 64-bit).
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_CUDADRIVER_H
#define SPARQ_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace sparq::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

/// Device attributes the runtime reads (values of the driver's CUdevice_attribute).
enum DeviceAttribute : int {
  kAttrMultiprocessorCount = 16,
  kAttrL2CacheSize = 38,
  kAttrComputeCapabilityMajor = 75,
  kAttrComputeCapabilityMinor = 76,
};

/// Entry points of libcuda.so.1. Every member is non-null once loadDriver() succeeded.
struct Driver {
  CUresult (*init)(unsigned);
  CUresult (*driverGetVersion)(int *);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetName)(char *, int, CUdevice);
  CUresult (*deviceGetAttribute)(int *, int, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*primaryCtxRelease)(CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*ctxSynchronize)();
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*memcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*memsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                           unsigned, CUstream, void **, void **);
  CUresult (*eventCreate)(CUevent *, unsigned);
  CUresult (*eventDestroy)(CUevent);
  CUresult (*eventRecord)(CUevent, CUstream);
  CUresult (*eventSynchronize)(CUevent);
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*getErrorName)(CUresult, const char **);
  CUresult (*getErrorString)(CUresult, const char **);
};

/// The driver, loaded and initialized (cuInit) once per process; null when libcuda.so.1 cannot be
/// opened, lacks an entry point or cuInit fails, with the reason in `*why`.
const Driver *loadDriver(std::string *why);

/// "CUDA_ERROR_NAME (description)" for a driver result.
std::string resultText(const Driver &d, CUresult r);

} // namespace sparq::cuda

#endif // SPARQ_RUNTIME_CUDADRIVER_H
