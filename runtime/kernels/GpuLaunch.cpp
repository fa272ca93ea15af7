//===- runtime/kernels/GpuLaunch.cpp - the host side of CUDA artifacts ---------===//
//
// Artifacts compiled with sparq-compile --target=cuda launch their kernels through the
// functions MLIR's gpu-to-llvm lowering calls (mgpuModuleLoad, mgpuLaunchKernel, mgpuMemAlloc,
// ...; the ABI of upstream's CUDA runtime wrappers), implemented here on the CUDA driver API.
// The driver is opened with dlopen("libcuda.so.1") on first use, so an artifact links no CUDA
// library: on a machine without a GPU it loads, and its invocations fail with a message that
// says why (sparq_uk_check_failed, the artifact's error channel). The kernel images are loaded
// by the artifact's constructor, outside any invocation: a failure there is recorded and
// reported by the first launch.
//
// Device: the one numbered by the environment variable SPARQ_CUDA_DEVICE (default 0), with its
// primary context, made current on the calling thread by every entry point. Weights are
// uploaded by sparq_uk_gpu_resident on first use and stay on the device while the artifact is
// loaded. The device buffers an invocation allocates are tracked on its thread until freed; an
// invocation that fails (a run-time check, a driver error) frees those still live.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"
#include "sparq/Formats/MmaPanels.h"

#include "cuda/MmaGemm.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUevent = void *;

/// The driver entry points the artifact uses.
struct Api {
  CUresult (*init)(unsigned);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, CUstream, void **, void **);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*streamDestroy)(CUstream);
  CUresult (*streamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*eventCreate)(CUevent *, unsigned);
  CUresult (*eventDestroy)(CUevent);
  CUresult (*eventRecord)(CUevent, CUstream);
  CUresult (*eventSynchronize)(CUevent);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*memAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*memcpy)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*memcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*memsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*memsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*getErrorName)(CUresult, const char **);
  CUresult (*deviceGetAttribute)(int *, int, CUdevice);
  CUresult (*ctxSynchronize)();
};

Api api;
CUcontext context = nullptr;
/// Streaming multiprocessors of the device (the tensor-core kernels' launch sizes).
int multiprocessors = 1;
bool ready = false;
/// Why the driver or a kernel image is unusable (empty while all is well).
char unusable[512];
pthread_once_t once = PTHREAD_ONCE_INIT;

template <typename Fn> bool resolve(void *lib, Fn &fn, const char *name) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!fn)
    snprintf(unusable, sizeof unusable, "the CUDA driver (libcuda.so.1) has no %s", name);
  return fn != nullptr;
}

const char *errorName(CUresult r) {
  const char *name = nullptr;
  if (api.getErrorName)
    api.getErrorName(r, &name);
  return name ? name : "an unknown CUDA error";
}

void load() {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *e = dlerror();
    snprintf(unusable, sizeof unusable,
             "this model was compiled for a CUDA GPU (sparq-compile --target=cuda), and the "
             "CUDA driver cannot be loaded: %s",
             e ? e : "libcuda.so.1 not found");
    return;
  }
  bool ok = resolve(lib, api.init, "cuInit") &&
            resolve(lib, api.deviceGetCount, "cuDeviceGetCount") &&
            resolve(lib, api.deviceGet, "cuDeviceGet") &&
            resolve(lib, api.primaryCtxRetain, "cuDevicePrimaryCtxRetain") &&
            resolve(lib, api.ctxSetCurrent, "cuCtxSetCurrent") &&
            resolve(lib, api.moduleLoadData, "cuModuleLoadData") &&
            resolve(lib, api.moduleUnload, "cuModuleUnload") &&
            resolve(lib, api.moduleGetFunction, "cuModuleGetFunction") &&
            resolve(lib, api.launchKernel, "cuLaunchKernel") &&
            resolve(lib, api.streamCreate, "cuStreamCreate") &&
            resolve(lib, api.streamSynchronize, "cuStreamSynchronize") &&
            resolve(lib, api.streamDestroy, "cuStreamDestroy_v2") &&
            resolve(lib, api.streamWaitEvent, "cuStreamWaitEvent") &&
            resolve(lib, api.eventCreate, "cuEventCreate") &&
            resolve(lib, api.eventDestroy, "cuEventDestroy_v2") &&
            resolve(lib, api.eventRecord, "cuEventRecord") &&
            resolve(lib, api.eventSynchronize, "cuEventSynchronize") &&
            resolve(lib, api.memAlloc, "cuMemAlloc_v2") &&
            resolve(lib, api.memAllocAsync, "cuMemAllocAsync") &&
            resolve(lib, api.memAllocManaged, "cuMemAllocManaged") &&
            resolve(lib, api.memFree, "cuMemFree_v2") &&
            resolve(lib, api.memFreeAsync, "cuMemFreeAsync") &&
            resolve(lib, api.memcpy, "cuMemcpy") &&
            resolve(lib, api.memcpyAsync, "cuMemcpyAsync") &&
            resolve(lib, api.memsetD32Async, "cuMemsetD32Async") &&
            resolve(lib, api.memsetD16Async, "cuMemsetD16Async") &&
            resolve(lib, api.getErrorName, "cuGetErrorName") &&
            resolve(lib, api.deviceGetAttribute, "cuDeviceGetAttribute") &&
            resolve(lib, api.ctxSynchronize, "cuCtxSynchronize");
  if (!ok)
    return;
  const char *env = getenv("SPARQ_CUDA_DEVICE");
  int ordinal = env && *env ? atoi(env) : 0;
  int count = 0;
  CUdevice device = 0;
  CUresult r = api.init(0);
  if (r == 0)
    r = api.deviceGetCount(&count);
  if (r != 0) {
    snprintf(unusable, sizeof unusable, "CUDA cannot start: cuInit failed with %s",
             errorName(r));
    return;
  }
  if (ordinal < 0 || ordinal >= count) {
    snprintf(unusable, sizeof unusable,
             "CUDA device %d (SPARQ_CUDA_DEVICE) does not exist: this machine has %d", ordinal,
             count);
    return;
  }
  if ((r = api.deviceGet(&device, ordinal)) != 0 ||
      (r = api.primaryCtxRetain(&context, device)) != 0) {
    snprintf(unusable, sizeof unusable, "CUDA device %d cannot be opened: %s", ordinal,
             errorName(r));
    return;
  }
  if (api.deviceGetAttribute(&multiprocessors, /*CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT=*/16,
                             device) != 0 ||
      multiprocessors < 1)
    multiprocessors = 1;
  ready = true;
}

/// Whether the driver is usable; makes the device's context current on this thread.
bool start() {
  pthread_once(&once, load);
  if (!ready)
    return false;
  api.ctxSetCurrent(context);
  return true;
}

/// Ends the invocation with the reason CUDA is unusable.
[[noreturn]] void failUnusable() {
  sparq_uk_check_failed(unusable[0] ? unusable : "CUDA is not usable");
}

/// Ends the invocation when a driver call failed.
void check(CUresult r, const char *what) {
  if (r == 0)
    return;
  static thread_local char message[256];
  snprintf(message, sizeof message, "CUDA: %s failed: %s", what, errorName(r));
  sparq_uk_check_failed(message);
}

/// Device copies of the weights (sparq_uk_gpu_resident), for the life of the artifact.
struct Resident {
  const void *host;
  CUdeviceptr device;
};
Resident *residents = nullptr;
size_t numResidents = 0, capResidents = 0;
pthread_mutex_t residentLock = PTHREAD_MUTEX_INITIALIZER;

/// The device buffers of the invocation running on this thread (mgpuMemAlloc to mgpuMemFree).
thread_local CUdeviceptr *liveBuffers = nullptr;
thread_local size_t numLive = 0, capLive = 0;

/// Called by a failed invocation (sparq_uk_on_invocation_failure): waits for the device work
/// that may still use the buffers, then frees them.
void releaseInvocation() {
  if (ready && numLive) {
    api.ctxSynchronize();
    for (size_t i = 0; i < numLive; ++i)
      api.memFree(liveBuffers[i]);
  }
  numLive = 0;
}

void track(CUdeviceptr p) {
  if (numLive == capLive) {
    size_t cap = capLive ? 2 * capLive : 64;
    auto *grown = static_cast<CUdeviceptr *>(realloc(liveBuffers, cap * sizeof(CUdeviceptr)));
    if (!grown) {
      api.memFree(p);
      sparq_uk_check_failed("out of host memory tracking device buffers");
    }
    liveBuffers = grown;
    capLive = cap;
  }
  liveBuffers[numLive++] = p;
  sparq_uk_on_invocation_failure(&releaseInvocation);
}

void untrack(CUdeviceptr p) {
  for (size_t i = numLive; i-- > 0;)
    if (liveBuffers[i] == p) {
      liveBuffers[i] = liveBuffers[--numLive];
      return;
    }
}

__attribute__((destructor)) void freeResidents() {
  if (ready)
    for (size_t i = 0; i < numResidents; ++i)
      api.memFree(residents[i].device);
  free(residents);
  residents = nullptr;
  numResidents = capResidents = 0;
}

/// The tensor-core kernels' module (the MmaGemm fatbin a model holds) and its entry points,
/// looked up on first use. An artifact holds one image; a process may load several artifacts.
struct MmaModule {
  const void *image;
  CUmodule module;
  CUfunction functions[sparq::cuda::kMmaNumFormats][3][4]; // [format][log2 R][MT index]
};
MmaModule mmaModules[8];
int numMmaModules = 0;
pthread_mutex_t mmaLock = PTHREAD_MUTEX_INITIALIZER;

int mtIndex(int mt) { return mt == 1 ? 0 : mt == 2 ? 1 : mt == 8 ? 2 : 3; }
int log2R(int r) { return r == 1 ? 0 : r == 2 ? 1 : 2; }

/// The kernel of `format` with R = r and MT = mt from `image`, loading the image on first use.
CUfunction mmaFunction(const void *image, int format, int r, int mt) {
  pthread_mutex_lock(&mmaLock);
  MmaModule *m = nullptr;
  for (int i = 0; i < numMmaModules; ++i)
    if (mmaModules[i].image == image)
      m = &mmaModules[i];
  CUresult res = 0;
  if (!m) {
    if (numMmaModules == int(sizeof mmaModules / sizeof mmaModules[0])) {
      pthread_mutex_unlock(&mmaLock);
      sparq_uk_check_failed("CUDA: more than 8 models with tensor-core kernels in one process");
    }
    CUmodule module = nullptr;
    res = api.moduleLoadData(&module, image);
    if (res == 0) {
      m = &mmaModules[numMmaModules++];
      memset(m, 0, sizeof *m);
      m->image = image;
      m->module = module;
    }
  }
  CUfunction f = nullptr;
  if (res == 0) {
    f = m->functions[format][log2R(r)][mtIndex(mt)];
    if (!f) {
      char name[64];
      snprintf(name, sizeof name, "sparq_cuda_mma_%s_r%d_m%d",
               sparq::cuda::kMmaFormats[format].name, r, mt);
      res = api.moduleGetFunction(&f, m->module, name);
      if (res == 0)
        m->functions[format][log2R(r)][mtIndex(mt)] = f;
    }
  }
  pthread_mutex_unlock(&mmaLock);
  check(res, "loading the tensor-core kernels");
  return f;
}

__attribute__((destructor)) void unloadMmaModules() {
  if (ready)
    for (int i = 0; i < numMmaModules; ++i)
      api.moduleUnload(mmaModules[i].module);
  numMmaModules = 0;
}

} // namespace

extern "C" {

void *mgpuModuleLoad(void *data, size_t /*size*/) {
  if (!start())
    return nullptr;
  CUmodule module = nullptr;
  if (CUresult r = api.moduleLoadData(&module, data)) {
    snprintf(unusable, sizeof unusable,
             "the model's GPU code cannot be loaded on this device (%s): it was compiled for "
             "another GPU architecture (sparq-compile --target=cuda:sm_XX)",
             errorName(r));
    return nullptr;
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  if (module && ready)
    api.moduleUnload(module);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!module || !start())
    failUnusable();
  CUfunction f = nullptr;
  check(api.moduleGetFunction(&f, module, name), "finding a kernel");
  return f;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                      intptr_t blockX, intptr_t blockY, intptr_t blockZ, int32_t smem,
                      void *stream, void **params, void **extra, size_t /*paramsCount*/) {
  if (gridX == 0 || gridY == 0 || gridZ == 0)
    return; // an empty loop: nothing to launch
  check(api.launchKernel(function, unsigned(gridX), unsigned(gridY), unsigned(gridZ),
                         unsigned(blockX), unsigned(blockY), unsigned(blockZ), unsigned(smem),
                         stream, params, extra),
        "a kernel launch");
}

void *mgpuStreamCreate() {
  if (!start())
    failUnusable();
  CUstream s = nullptr;
  check(api.streamCreate(&s, /*CU_STREAM_NON_BLOCKING=*/1), "creating a stream");
  return s;
}

void mgpuStreamSynchronize(void *stream) {
  check(api.streamSynchronize(stream), "running the model's kernels");
}

void mgpuStreamDestroy(void *stream) { api.streamDestroy(stream); }

void mgpuStreamWaitEvent(void *stream, void *event) {
  check(api.streamWaitEvent(stream, event, 0), "ordering streams");
}

void *mgpuEventCreate() {
  if (!start())
    failUnusable();
  CUevent e = nullptr;
  check(api.eventCreate(&e, /*CU_EVENT_DISABLE_TIMING=*/2), "creating an event");
  return e;
}

void mgpuEventDestroy(void *event) { api.eventDestroy(event); }

void mgpuEventSynchronize(void *event) {
  check(api.eventSynchronize(event), "running the model's kernels");
}

void mgpuEventRecord(void *event, void *stream) {
  check(api.eventRecord(event, stream), "recording an event");
}

void *mgpuMemAlloc(uint64_t bytes, void *stream, bool hostShared) {
  if (!start())
    failUnusable();
  if (bytes == 0)
    return nullptr;
  CUdeviceptr p = 0;
  if (hostShared)
    check(api.memAllocManaged(&p, bytes, /*CU_MEM_ATTACH_GLOBAL=*/1), "allocating memory");
  else
    check(api.memAllocAsync(&p, bytes, stream), "allocating device memory");
  track(p);
  return reinterpret_cast<void *>(p);
}

void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr)
    return;
  untrack(reinterpret_cast<CUdeviceptr>(ptr));
  check(api.memFreeAsync(reinterpret_cast<CUdeviceptr>(ptr), stream), "freeing device memory");
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  if (bytes)
    check(api.memcpyAsync(reinterpret_cast<CUdeviceptr>(dst), reinterpret_cast<CUdeviceptr>(src),
                          bytes, stream),
          "copying memory");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream) {
  if (count)
    check(api.memsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count, stream),
          "filling memory");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream) {
  if (count)
    check(api.memsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count, stream),
          "filling memory");
}

void *sparq_uk_gpu_resident(const void *host, int64_t bytes, void **slot) {
  if (void *known = __atomic_load_n(slot, __ATOMIC_ACQUIRE)) {
    api.ctxSetCurrent(context); // what start() does for the other entry points
    return known;
  }
  if (!start())
    failUnusable();
  if (bytes <= 0)
    return nullptr;
  pthread_mutex_lock(&residentLock);
  for (size_t i = 0; i < numResidents; ++i)
    if (residents[i].host == host) {
      CUdeviceptr d = residents[i].device;
      pthread_mutex_unlock(&residentLock);
      return reinterpret_cast<void *>(d);
    }
  CUdeviceptr d = 0;
  CUresult r = api.memAlloc(&d, size_t(bytes));
  if (r == 0) {
    r = api.memcpy(d, reinterpret_cast<CUdeviceptr>(host), size_t(bytes));
    if (r != 0)
      api.memFree(d);
  }
  if (r == 0 && numResidents == capResidents) {
    size_t cap = capResidents ? 2 * capResidents : 64;
    auto *grown = static_cast<Resident *>(realloc(residents, cap * sizeof(Resident)));
    if (grown) {
      residents = grown;
      capResidents = cap;
    } else {
      api.memFree(d);
      r = 2; // CUDA_ERROR_OUT_OF_MEMORY
    }
  }
  if (r == 0)
    residents[numResidents++] = {host, d};
  pthread_mutex_unlock(&residentLock);
  check(r, "uploading the weights");
  __atomic_store_n(slot, reinterpret_cast<void *>(d), __ATOMIC_RELEASE);
  return reinterpret_cast<void *>(d);
}

void sparq_uk_gpu_mma(int64_t image, int64_t /*imageBytes*/, int64_t format, int64_t y, int64_t x,
                      int64_t p0, int64_t p1, int64_t p2, int64_t scales, int64_t zeros,
                      int64_t meta, int64_t m, int64_t n, int64_t k) {
  namespace mma = sparq::formats::mma;
  using sparq::cuda::mmaInstantiated;
  if (!start())
    failUnusable();
  if (format < 0 || format >= sparq::cuda::kMmaNumFormats || n % mma::kTileRows != 0 ||
      k % mma::kChunk != 0)
    sparq_uk_check_failed("CUDA: a tensor-core product with an unsupported format or shape");
  if (m <= 0)
    return;
  const int f = int(format);
  const size_t tiles = size_t(n) / mma::kTileRows, chunks = size_t(k) / mma::kChunk;
  // Ordered after the device work before it (on the artifact's streams), on the default stream.
  check(api.ctxSynchronize(), "running the model's kernels");
  const int64_t maxTokens = sparq::cuda::mmaMaxTokens(f);
  for (int64_t m0 = 0; m0 < m; m0 += maxTokens) {
    const int mb = int(m - m0 < maxTokens ? m - m0 : maxTokens);
    int mt = mb <= 8 ? 1 : mb <= 16 ? 2 : 8;
    // R tiles per warp: the widest the format instantiates that still leaves a group of R
    // tiles per multiprocessor (more activation reuse per loaded fragment without idling SMs).
    int r = 1;
    for (int cand : {4, 2})
      if (mmaInstantiated(f, cand, mt) && tiles % size_t(cand) == 0 &&
          tiles / size_t(cand) >= size_t(multiprocessors)) {
        r = cand;
        break;
      }
    const size_t groups = tiles / size_t(r), units = groups * chunks;
    // One block of 4 warps per group when there are enough groups to fill the device (no
    // atomics, no zeroing); otherwise about 8 warps per multiprocessor splitting the chunks.
    size_t warps = 4 * groups;
    if (groups < size_t(2 * multiprocessors)) {
      warps = size_t(8) * size_t(multiprocessors);
      if (warps > units)
        warps = units;
      warps = (warps + 3) / 4 * 4;
    }
    CUdeviceptr yb = CUdeviceptr(y) + CUdeviceptr(m0) * CUdeviceptr(n) * 4;
    if (mma::outputAccumulates(groups, chunks, warps))
      check(api.memsetD32Async(yb, 0, size_t(mb) * size_t(n), nullptr), "zeroing an output");
    sparq::cuda::MmaArgs args;
    args.planes[0] = reinterpret_cast<const uint32_t *>(p0);
    args.planes[1] = reinterpret_cast<const uint32_t *>(p1);
    args.planes[2] = reinterpret_cast<const uint32_t *>(p2);
    args.scales = reinterpret_cast<const uint16_t *>(scales);
    args.zeros = reinterpret_cast<const uint16_t *>(zeros);
    args.meta = reinterpret_cast<const uint32_t *>(meta);
    args.x = reinterpret_cast<const uint16_t *>(x + m0 * k * 2);
    args.y = reinterpret_cast<float *>(yb);
    args.m = mb;
    args.n = int(n);
    args.k = int(k);
    void *params[] = {&args};
    CUfunction fn = mmaFunction(reinterpret_cast<const void *>(image), f, r, mt);
    check(api.launchKernel(fn, unsigned(warps / 4), 1, 1, sparq::cuda::kMmaThreads, 1, 1, 0,
                           nullptr, params, nullptr),
          "a tensor-core kernel launch");
  }
  check(api.streamSynchronize(nullptr), "running a tensor-core kernel");
}

} // extern "C"
