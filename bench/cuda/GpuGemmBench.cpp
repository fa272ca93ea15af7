//===- bench/cuda/GpuGemmBench.cpp - compressed GEMV/GEMM on the GPU -------===//
//
// Times sparq's tensor-core kernels (runtime/kernels/cuda/MmaGemm.cu) on the shapes of issue 14
// (K = 8192 with N = 8192 and N = 28672; M = 1, 16, 64) for every weight format, checks each
// kernel configuration against a plain host loop over the dequantized weights, reports the
// compression error against the fp32 weights and each time against the memory roofline measured
// in the same run (device-to-device copy bandwidth). Writes one CSV row per (shape, M, format)
// for bench/cuda/report.py, which adds cuBLAS fp16 (through PyTorch) measured in the same way.
//
//   sparq-gpu-gemm-bench --fatbin build/cuda/MmaGemm.fatbin [--csv out.csv] [--quick]
//                        [--formats w4,sp24w4,...] [--only FORMAT,R,WARPS,N,M]
//
// Exit codes: 0 every check passed, 1 a check failed or a CUDA call failed, 77 no GPU or driver.
//
//===----------------------------------------------------------------------===//
#include "CudaDriver.h"
#include "cuda/MmaGemm.h"
#include "sparq/Formats/MmaPanels.h"
#include "sparq/Formats/PackedFormats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace sparq::cuda;
namespace mma = sparq::formats::mma;
namespace fmt = sparq::formats;

namespace {

const Driver *gD = nullptr;

[[noreturn]] void fail(const std::string &what) {
  std::fprintf(stderr, "sparq-gpu-gemm-bench: %s\n", what.c_str());
  std::exit(1);
}
void check(CUresult r, const char *what) {
  if (r)
    fail(std::string(what) + ": " + resultText(*gD, r));
}

void parallelFor(size_t n, const std::function<void(size_t, size_t)> &body) {
  unsigned t = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < t; ++i) {
    size_t b = n * i / t, e = n * (i + 1) / t;
    if (b < e)
      pool.emplace_back(body, b, e);
  }
  for (auto &th : pool)
    th.join();
}

/// Deterministic pseudo-normal values (sum of four uniforms), fast enough for 235M weights.
inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
inline float pseudoNormal(uint64_t i) {
  uint64_t r = mix(i);
  float s = 0;
  for (int j = 0; j < 4; ++j)
    s += static_cast<float>((r >> (16 * j)) & 0xffff) * (1.0f / 65536.0f);
  return (s - 2.0f) * 1.7320508f; // variance 1
}

struct DeviceBuffer {
  CUdeviceptr ptr = 0;
  size_t bytes = 0;
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t b) : bytes(b) { check(gD->memAlloc(&ptr, std::max<size_t>(b, 4)), "cuMemAlloc"); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() {
    if (ptr)
      gD->memFree(ptr);
  }
};

/// One weight format of the benchmark.
struct Format {
  const char *name; // kernel format name (MmaGemm.h)
  const char *label;
  int bits;         // 16: fp16
  bool sparse;      // 2:4
  int bcq = 0;      // shift-add (binary-coded) planes; then bits and sparse are unused
};
const Format kFormats[] = {
    {"f16", "fp16 dense", 16, false}, {"w4", "W4 g128", 4, false},      {"sp24w4", "2:4 + W4 g128", 4, true},
    {"w3", "W3 g128", 3, false},      {"w2", "W2 g128", 2, false},      {"w8", "W8 g128", 8, false},
    {"sp24f16", "2:4 fp16", 16, true},  {"bcq3", "shift-add q=3", 1, false, 3},
};

/// Register shapes each format instantiates (MmaGemm.cu, listed in MmaGemm.h).
bool instantiated(const Format &f, int r, int mt) {
  for (int i = 0; i < sparq::cuda::kMmaNumFormats; ++i)
    if (std::string(f.name) == sparq::cuda::kMmaFormats[i].name)
      return sparq::cuda::mmaInstantiated(i, r, mt);
  return false;
}

/// A format's weights on the host: codes, scales, zeros, positions, and the packed planes.
struct HostWeights {
  size_t n = 0, k = 0;
  int bits = 16;
  bool sparse = false;
  int bcq = 0;                   // shift-add planes: codes hold the sign bits, scales the alphas
  std::vector<uint16_t> codes;   // per kept value (N x K or N x K/2): code, or fp16 bits
  std::vector<uint8_t> pos;      // 2:4: in-group position of each kept value
  std::vector<uint16_t> scales;  // fp16, [tile][chunk][16]
  std::vector<uint16_t> zeros;   // fp16 1024 + zero, same layout
  std::vector<std::vector<uint32_t>> planes;
  std::vector<uint32_t> meta;

  size_t rowLen() const { return sparse ? k / 2 : k; }
  /// Dequantized weight (n, kept index j): (code - zero) x scale, exactly.
  float value(size_t row, size_t j) const {
    uint16_t c = codes[row * rowLen() + j];
    if (bcq) {
      float v = 0;
      for (int p = 0; p < bcq; ++p)
        v += mma::halfToFloat(scales[mma::bcqScaleIndex(row, j / mma::kChunk, k / mma::kChunk, p, bcq)]) *
             ((c >> p) & 1 ? 1.f : -1.f);
      return v;
    }
    if (bits == mma::kHalfBits)
      return mma::halfToFloat(c);
    size_t kk = sparse ? (j / 2) * 4 : j; // a dense k of the same group
    size_t si = mma::scaleIndex(row, kk / mma::kChunk, k / mma::kChunk);
    float d = (1024.0f + c) - mma::halfToFloat(zeros[si]);
    return d * mma::halfToFloat(scales[si]);
  }
  /// Dense k of kept index j.
  size_t column(size_t row, size_t j) const { return sparse ? (j / 2) * 4 + pos[row * rowLen() + j] : j; }
  size_t weightBytes(size_t rows) const {
    if (bcq)
      return bcq * (mma::planeWords(rows, k, 1, false) * 4 + 2 * rows * (k / mma::kChunk));
    size_t b = 0;
    for (int p = 0; p < mma::numPlanes(bits); ++p)
      b += mma::planeWords(rows, k, mma::planeWidth(bits, p), sparse) * 4;
    if (bits != mma::kHalfBits)
      b += 2 * 2 * rows * (k / mma::kChunk);
    if (sparse)
      b += mma::metaWords(rows, k) * 4;
    return b;
  }
};

/// Quantizes (round to nearest, min-max per row and group of 128) and packs W for `f`.
/// Greedy binary coding per row and group of 128 (LUT-GEMM's BCQ): plane p takes the signs of
/// the residual and alpha_p its mean magnitude.
HostWeights makeBcqWeights(const std::vector<float> &w, size_t n, size_t k, int q) {
  HostWeights h;
  h.n = n, h.k = k, h.bits = 1, h.bcq = q;
  const size_t chunks = k / mma::kChunk;
  h.codes.assign(n * k, 0);
  h.scales.resize(n * chunks * q);
  parallelFor(n, [&](size_t r0, size_t r1) {
    std::vector<float> res(mma::kChunk);
    for (size_t r = r0; r < r1; ++r)
      for (size_t ch = 0; ch < chunks; ++ch) {
        for (size_t j = 0; j < res.size(); ++j)
          res[j] = w[r * k + ch * mma::kChunk + j];
        for (int p = 0; p < q; ++p) {
          double mag = 0;
          for (float v : res)
            mag += std::fabs(v);
          float alpha = mma::halfToFloat(mma::halfFromFloat(static_cast<float>(mag / res.size())));
          h.scales[mma::bcqScaleIndex(r, ch, chunks, p, q)] = mma::halfFromFloat(alpha);
          for (size_t j = 0; j < res.size(); ++j) {
            bool plus = res[j] >= 0;
            h.codes[r * k + ch * mma::kChunk + j] |= static_cast<uint16_t>(plus << p);
            res[j] -= plus ? alpha : -alpha;
          }
        }
      }
  });
  h.planes.resize(q);
  for (int p = 0; p < q; ++p) {
    h.planes[p].resize(mma::planeWords(n, k, 1, false));
    std::vector<uint8_t> bitsP(n * k);
    for (size_t i = 0; i < bitsP.size(); ++i)
      bitsP[i] = (h.codes[i] >> p) & 1;
    uint32_t *ptr = h.planes[p].data();
    parallelFor(n / mma::kTileRows, [&](size_t t0, size_t t1) {
      mma::packPlanes(bitsP.data(), n, k, 1, false, &ptr, t0, t1);
    });
  }
  return h;
}

HostWeights makeWeights(const std::vector<float> &w, size_t n, size_t k, const Format &f) {
  if (f.bcq)
    return makeBcqWeights(w, n, k, f.bcq);
  HostWeights h;
  h.n = n, h.k = k, h.bits = f.bits, h.sparse = f.sparse;
  const size_t rowLen = h.rowLen(), chunks = k / mma::kChunk;
  h.codes.resize(n * rowLen);
  if (f.sparse)
    h.pos.resize(n * rowLen);
  if (f.bits != mma::kHalfBits) {
    h.scales.resize(n * chunks);
    h.zeros.resize(n * chunks);
  }
  parallelFor(n, [&](size_t r0, size_t r1) {
    std::vector<float> kept(rowLen), pruned(k);
    std::vector<uint8_t> idx(fmt::nmIndexRowBytes(k, 2, 4));
    for (size_t r = r0; r < r1; ++r) {
      const float *row = &w[r * k];
      if (f.sparse) {
        fmt::nmPruneRow(row, k, 2, 4, pruned.data());
        if (!fmt::nmPackRow(pruned.data(), k, 2, 4, kept.data(), idx.data()))
          fail("2:4 packing failed");
        for (size_t j = 0; j < rowLen; ++j)
          h.pos[r * rowLen + j] = fmt::codeAt(idx.data(), j, fmt::nmIndexBits(4));
      } else {
        std::copy(row, row + k, kept.begin());
      }
      if (f.bits == mma::kHalfBits) {
        for (size_t j = 0; j < rowLen; ++j)
          h.codes[r * rowLen + j] = mma::halfFromFloat(kept[j]);
        continue;
      }
      const size_t per = f.sparse ? mma::kChunk / 2 : mma::kChunk;
      const int levels = (1 << f.bits) - 1;
      for (size_t ch = 0; ch < chunks; ++ch) {
        float lo = 0, hi = 0;
        for (size_t j = ch * per; j < (ch + 1) * per; ++j)
          lo = std::min(lo, kept[j]), hi = std::max(hi, kept[j]);
        float scale = mma::halfToFloat(mma::halfFromFloat((hi - lo) / levels));
        if (scale == 0)
          scale = 1;
        int zero = std::clamp(static_cast<int>(std::lround(-lo / scale)), 0, levels);
        size_t si = mma::scaleIndex(r, ch, chunks);
        h.scales[si] = mma::halfFromFloat(scale);
        h.zeros[si] = mma::halfFromFloat(1024.0f + zero);
        for (size_t j = ch * per; j < (ch + 1) * per; ++j)
          h.codes[r * rowLen + j] =
              static_cast<uint16_t>(std::clamp(static_cast<int>(std::lround(kept[j] / scale)) + zero, 0, levels));
      }
    }
  });
  h.planes.resize(mma::numPlanes(f.bits));
  std::vector<uint32_t *> ptrs;
  for (int p = 0; p < mma::numPlanes(f.bits); ++p) {
    h.planes[p].resize(mma::planeWords(n, k, mma::planeWidth(f.bits, p), f.sparse));
    ptrs.push_back(h.planes[p].data());
  }
  const size_t tiles = n / mma::kTileRows;
  parallelFor(tiles, [&](size_t t0, size_t t1) {
    mma::packPlanes(h.codes.data(), n, k, f.bits, f.sparse, ptrs.data(), t0, t1);
  });
  if (f.sparse) {
    h.meta.resize(mma::metaWords(n, k));
    parallelFor(tiles, [&](size_t t0, size_t t1) { mma::packMeta(h.pos.data(), n, k, h.meta.data(), t0, t1); });
  }
  return h;
}

/// The weights on the device, `copies` times back to back, so that timed launches can rotate
/// over windows larger than the L2 cache together.
struct DeviceWeights {
  std::vector<std::unique_ptr<DeviceBuffer>> planes;
  std::unique_ptr<DeviceBuffer> scales, zeros, meta;
  int copies = 0;
  size_t planeWordsPerCopy[3] = {}, scalesPerCopy = 0, metaPerCopy = 0;
};

template <typename T> void upload(DeviceBuffer &buf, const std::vector<T> &v, int copies) {
  for (int c = 0; c < copies; ++c)
    check(gD->memcpyHtoD(buf.ptr + c * v.size() * sizeof(T), v.data(), v.size() * sizeof(T)), "cuMemcpyHtoD");
}

DeviceWeights uploadWeights(const HostWeights &h, int copies) {
  DeviceWeights d;
  d.copies = copies;
  for (size_t p = 0; p < h.planes.size(); ++p) {
    d.planeWordsPerCopy[p] = h.planes[p].size();
    d.planes.push_back(std::make_unique<DeviceBuffer>(h.planes[p].size() * 4 * copies));
    upload(*d.planes.back(), h.planes[p], copies);
  }
  if (!h.scales.empty()) {
    d.scalesPerCopy = h.scales.size();
    d.scales = std::make_unique<DeviceBuffer>(h.scales.size() * 2 * copies);
    upload(*d.scales, h.scales, copies);
    if (!h.zeros.empty()) {
      d.zeros = std::make_unique<DeviceBuffer>(h.zeros.size() * 2 * copies);
      upload(*d.zeros, h.zeros, copies);
    }
  }
  if (!h.meta.empty()) {
    d.metaPerCopy = h.meta.size();
    d.meta = std::make_unique<DeviceBuffer>(h.meta.size() * 4 * copies);
    upload(*d.meta, h.meta, copies);
  }
  return d;
}

/// Kernel arguments for the window of `rows` rows that starts at tile `tile0` of copy `copy`.
MmaArgs windowArgs(const HostWeights &h, const DeviceWeights &d, int copy, size_t tile0, size_t rows,
                   CUdeviceptr x, CUdeviceptr y, int m) {
  MmaArgs a{};
  const size_t chunks = h.k / mma::kChunk;
  for (size_t p = 0; p < d.planes.size(); ++p) {
    int width = h.bcq ? 1 : mma::planeWidth(h.bits, p);
    size_t tileWords = chunks * mma::kLanes * mma::wordsPerLane(width, h.sparse);
    a.planes[p] = reinterpret_cast<const uint32_t *>(d.planes[p]->ptr +
                                                     4 * (copy * d.planeWordsPerCopy[p] + tile0 * tileWords));
  }
  if (d.scales) {
    size_t off = copy * d.scalesPerCopy + tile0 * chunks * mma::kTileRows * (h.bcq ? h.bcq : 1);
    a.scales = reinterpret_cast<const uint16_t *>(d.scales->ptr + 2 * off);
    if (d.zeros)
      a.zeros = reinterpret_cast<const uint16_t *>(d.zeros->ptr + 2 * off);
  }
  if (d.meta)
    a.meta = reinterpret_cast<const uint32_t *>(d.meta->ptr +
                                                4 * (copy * d.metaPerCopy + tile0 * chunks * 16 * mma::stepsPerChunk(true)));
  a.x = reinterpret_cast<const uint16_t *>(x);
  a.y = reinterpret_cast<float *>(y);
  a.m = m, a.n = static_cast<int>(rows), a.k = static_cast<int>(h.k);
  return a;
}

struct Sample {
  size_t m, n;
};

/// Host reference of sampled outputs: sum over k of dequantized weight x activation, in double.
double refOutput(const HostWeights &h, const std::vector<float> &x, size_t m, size_t n, double *absSum) {
  double s = 0, a = 0;
  for (size_t j = 0; j < h.rowLen(); ++j) {
    double p = static_cast<double>(h.value(n, j)) * x[m * h.k + h.column(n, j)];
    s += p, a += std::fabs(p);
  }
  if (absSum)
    *absSum = a;
  return s;
}

struct Config {
  int r = 0, warps = 0;
  double us = 1e30;
};

} // namespace

int main(int argc, char **argv) {
  std::string fatbinPath, csvPath, only; // only: "format,R,warps,N,M" (one configuration, for profilers)
  std::string formats;                   // comma-separated kernel format names; empty: all
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--fatbin" && i + 1 < argc)
      fatbinPath = argv[++i];
    else if (a == "--csv" && i + 1 < argc)
      csvPath = argv[++i];
    else if (a == "--quick")
      quick = true;
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--formats" && i + 1 < argc)
      formats = argv[++i];
    else {
      std::fprintf(stderr, "usage: sparq-gpu-gemm-bench --fatbin FILE [--csv FILE] [--quick] [--formats F1,F2,...] [--only FORMAT,R,WARPS,N,M]\n");
      return 2;
    }
  }
  if (fatbinPath.empty()) {
    std::fprintf(stderr, "sparq-gpu-gemm-bench: --fatbin is required\n");
    return 2;
  }
  std::string why;
  gD = loadDriver(&why);
  if (!gD) {
    std::printf("SKIP: %s\n", why.c_str());
    return 77;
  }
  int count = 0;
  if (gD->deviceGetCount(&count) || count == 0) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  CUdevice dev;
  check(gD->deviceGet(&dev, 0), "cuDeviceGet");
  char name[256] = {};
  gD->deviceGetName(name, sizeof name, dev);
  int sms = 0, l2 = 0, ccMajor = 0, ccMinor = 0, driverVersion = 0;
  gD->deviceGetAttribute(&sms, kAttrMultiprocessorCount, dev);
  gD->deviceGetAttribute(&l2, kAttrL2CacheSize, dev);
  gD->deviceGetAttribute(&ccMajor, kAttrComputeCapabilityMajor, dev);
  gD->deviceGetAttribute(&ccMinor, kAttrComputeCapabilityMinor, dev);
  gD->driverGetVersion(&driverVersion);
  CUcontext ctx;
  check(gD->primaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  check(gD->ctxSetCurrent(ctx), "cuCtxSetCurrent");
  std::printf("device: %s, sm_%d%d, %d SMs, L2 %d MiB, driver %d\n", name, ccMajor, ccMinor, sms, l2 >> 20,
              driverVersion);

  std::ifstream in(fatbinPath, std::ios::binary);
  if (!in)
    fail("cannot read " + fatbinPath);
  std::vector<char> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CUmodule module;
  check(gD->moduleLoadData(&module, image.data()), "cuModuleLoadData");

  CUevent e0, e1;
  check(gD->eventCreate(&e0, 0), "cuEventCreate");
  check(gD->eventCreate(&e1, 0), "cuEventCreate");
  auto elapsedMs = [&] {
    float ms = 0;
    check(gD->eventSynchronize(e1), "cuEventSynchronize");
    check(gD->eventElapsedTime(&ms, e0, e1), "cuEventElapsedTime");
    return static_cast<double>(ms);
  };

  // The roofline: device-to-device copy of 2 GiB (reads + writes), best of 5.
  double bandwidth = 0;
  {
    const size_t bytes = size_t(1) << 31;
    DeviceBuffer a(bytes), b(bytes);
    for (int i = 0; i < 6; ++i) {
      check(gD->eventRecord(e0, nullptr), "cuEventRecord");
      check(gD->memcpyDtoDAsync(b.ptr, a.ptr, bytes, nullptr), "cuMemcpyDtoDAsync");
      check(gD->eventRecord(e1, nullptr), "cuEventRecord");
      double ms = elapsedMs();
      if (i > 0)
        bandwidth = std::max(bandwidth, 2.0 * bytes / (ms * 1e-3));
    }
  }
  std::printf("memory roofline (device-to-device copy, read + write): %.0f GB/s\n\n", bandwidth / 1e9);

  const size_t kDim = 8192, nFull = 28672;
  const std::vector<size_t> shapes = quick ? std::vector<size_t>{8192} : std::vector<size_t>{8192, nFull};
  const std::vector<int> ms = quick ? std::vector<int>{1, 16} : std::vector<int>{1, 16, 64};
  std::vector<float> w(nFull * kDim);
  parallelFor(nFull, [&](size_t r0, size_t r1) {
    for (size_t i = r0 * kDim; i < r1 * kDim; ++i)
      w[i] = 0.02f * pseudoNormal(i);
  });
  const int maxM = 64;
  std::vector<float> x(maxM * kDim);
  std::vector<uint16_t> xh(maxM * kDim);
  for (size_t i = 0; i < x.size(); ++i) {
    xh[i] = mma::halfFromFloat(pseudoNormal(i + (uint64_t(1) << 40)));
    x[i] = mma::halfToFloat(xh[i]);
  }
  DeviceBuffer dx(xh.size() * 2), dy(size_t(maxM) * nFull * 4);
  check(gD->memcpyHtoD(dx.ptr, xh.data(), xh.size() * 2), "cuMemcpyHtoD");

  std::FILE *csv = csvPath.empty() ? nullptr : std::fopen(csvPath.c_str(), "w");
  if (csv)
    std::fprintf(csv, "n,k,m,format,label,r,warps,us,bytes,roofline_frac,check,max_err,weight_rel_err,"
                      "output_rel_err,bandwidth_gbs\n");
  std::printf("%-6s %-6s %-3s %-14s %5s %6s %10s %9s %9s %6s  %s\n", "N", "K", "M", "format", "R", "warps",
              "time us", "MB", "roof frac", "check", "rel err vs fp32 (weights / outputs)");
  int failures = 0;
  for (const Format &f : kFormats) {
    if (!only.empty() && only.rfind(std::string(f.name) + ",", 0) != 0)
      continue;
    if (!formats.empty() && ("," + formats + ",").find("," + std::string(f.name) + ",") == std::string::npos)
      continue;
    HostWeights h = makeWeights(w, nFull, kDim, f);
    // Two copies: the 8192-row windows (3 per copy) and the full weight rotate over 2x its bytes.
    DeviceWeights d = uploadWeights(h, 2);

    // Compression error on 64 sampled rows (independent of the kernels).
    double werr = 0, wnorm = 0;
    for (size_t s = 0; s < 64; ++s) {
      size_t row = mix(s) % nFull;
      std::vector<float> deq(kDim, 0.f);
      for (size_t j = 0; j < h.rowLen(); ++j)
        deq[h.column(row, j)] = h.value(row, j);
      for (size_t kk = 0; kk < kDim; ++kk) {
        double e = deq[kk] - w[row * kDim + kk];
        werr += e * e, wnorm += double(w[row * kDim + kk]) * w[row * kDim + kk];
      }
    }
    for (size_t n : shapes) {
      const size_t tilesPerWindow = n / mma::kTileRows, windowsPerCopy = nFull / n;
      for (int m : ms) {
        const int mt = m <= 8 ? 1 : m <= 16 ? 2 : 8;
        std::vector<Sample> samples;
        for (size_t s = 0; s < 48; ++s)
          samples.push_back({mix(s * 7 + 1) % m, mix(s * 7 + 2) % n});
        // Output compression error on the samples of window 0: dequantized vs fp32 weights.
        double oerr = 0, onorm = 0;
        std::vector<double> ref(samples.size()), tol(samples.size());
        for (size_t s = 0; s < samples.size(); ++s) {
          double absSum = 0;
          ref[s] = refOutput(h, x, samples[s].m, samples[s].n, &absSum);
          tol[s] = 2e-3 * absSum + 1e-6;
          double exact = 0;
          for (size_t kk = 0; kk < kDim; ++kk)
            exact += double(w[samples[s].n * kDim + kk]) * x[samples[s].m * kDim + kk];
          oerr += (ref[s] - exact) * (ref[s] - exact), onorm += exact * exact;
        }
        Config best;
        std::vector<float> y(size_t(m) * n);
        bool allOk = true;
        double worst = 0;
        for (int r : {1, 2, 4}) {
          if (!instantiated(f, r, mt) || tilesPerWindow % r)
            continue;
          CUfunction fn;
          std::string kname = mmaKernelName(f.name, r, mt);
          check(gD->moduleGetFunction(&fn, module, kname.c_str()), kname.c_str());
          // Warps to launch: a few per group of R tiles, or a few per SM (multiples of 4).
          const size_t groups = tilesPerWindow / r, chunks = kDim / mma::kChunk;
          std::vector<size_t> warpCounts;
          for (size_t wc : {groups, 2 * groups, 4 * groups, size_t(sms) * 4, size_t(sms) * 8, size_t(sms) * 12,
                            size_t(sms) * 16, size_t(sms) * 24, size_t(sms) * 32})
            if (wc <= groups * chunks)
              warpCounts.push_back((wc + 3) / 4 * 4);
          std::sort(warpCounts.begin(), warpCounts.end());
          warpCounts.erase(std::unique(warpCounts.begin(), warpCounts.end()), warpCounts.end());
          for (size_t warps : warpCounts) {
            if (!only.empty() && only != std::string(f.name) + "," + std::to_string(r) + "," + std::to_string(warps) +
                                             "," + std::to_string(n) + "," + std::to_string(m))
              continue;
            const bool shared = mma::outputAccumulates(groups, chunks, warps);
            auto launch = [&](int window) {
              int copy = window / int(windowsPerCopy), win = window % int(windowsPerCopy);
              MmaArgs a = windowArgs(h, d, copy, win * tilesPerWindow, n, dx.ptr, dy.ptr, m);
              if (shared)
                check(gD->memsetD32Async(dy.ptr, 0, size_t(m) * n, nullptr), "cuMemsetD32Async");
              void *params[] = {&a};
              check(gD->launchKernel(fn, unsigned(warps * 32 / kMmaThreads), 1, 1, kMmaThreads, 1, 1, 0, nullptr,
                                     params, nullptr),
                    kname.c_str());
            };
            // Correctness of this configuration on window 0.
            launch(0);
            check(gD->ctxSynchronize(), kname.c_str());
            check(gD->memcpyDtoH(y.data(), dy.ptr, y.size() * 4), "cuMemcpyDtoH");
            bool ok = true;
            for (size_t s = 0; s < samples.size(); ++s) {
              double e = std::fabs(y[samples[s].m * n + samples[s].n] - ref[s]);
              worst = std::max(worst, e / tol[s] * 2e-3);
              ok &= e <= tol[s];
            }
            if (!ok) {
              allOk = false;
              std::printf("CHECK FAILED: %s, %zu warps (N %zu, M %d)\n", kname.c_str(), warps, n, m);
              continue;
            }
            const int windows = int(windowsPerCopy) * d.copies, iters = quick ? 10 : 30;
            for (int i = 0; i < windows; ++i)
              launch(i);
            double msBest = 1e30;
            for (int round = 0; round < 3; ++round) {
              check(gD->eventRecord(e0, nullptr), "cuEventRecord");
              for (int i = 0; i < iters; ++i)
                launch(i % windows);
              check(gD->eventRecord(e1, nullptr), "cuEventRecord");
              msBest = std::min(msBest, elapsedMs() / iters);
            }
            if (msBest * 1e3 < best.us)
              best = {r, int(warps), msBest * 1e3};
          }
        }
        failures += !allOk;
        if (best.r == 0) {
          std::printf("%-6zu %-6zu %-3d %-14s %s\n", n, kDim, m, f.label,
                      allOk ? "no kernel instantiated for this many tokens" : "no configuration passed");
          continue;
        }
        double bytes = h.weightBytes(n) + 2.0 * m * kDim + 4.0 * m * n;
        double roof = bytes / bandwidth * 1e6 / best.us;
        std::printf("%-6zu %-6zu %-3d %-14s %5d %6d %10.1f %9.1f %9.2f %6s  %.4f / %.4f\n", n, kDim, m, f.label, best.r,
                    best.warps, best.us, bytes / 1e6, roof, allOk ? "ok" : "FAIL", std::sqrt(werr / wnorm),
                    std::sqrt(oerr / onorm));
        if (csv)
          std::fprintf(csv, "%zu,%zu,%d,%s,%s,%d,%d,%.3f,%.0f,%.4f,%s,%.3g,%.5f,%.5f,%.1f\n", n, kDim, m, f.name,
                       f.label, best.r, best.warps, best.us, bytes, roof, allOk ? "ok" : "FAIL", worst,
                       std::sqrt(werr / wnorm), std::sqrt(oerr / onorm), bandwidth / 1e9);
      }
    }
  }
  if (csv)
    std::fclose(csv);
  gD->moduleUnload(module);
  std::printf("\n%s\n", failures ? "SOME CHECKS FAILED" : "all kernel configurations match the host reference");
  return failures ? 1 : 0;
}
