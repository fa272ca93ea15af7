/*===- include/sparq/Kernels/UKernels.h - micro-kernel C ABI -------*- C -*-===//
 *
 * The freestanding kernels that sparq links into every artifact (runtime/kernels/, built to LLVM
 * bitcode and linked into the model at compile time, IREE's ukernel approach; see
 * docs/codegen.md). The compiler emits calls to these names; the kernel tests call them directly.
 *
 * Every pointer argument is passed as an integer address (intptr_t) so that the MLIR side can
 * call them with `index` values; every size and stride is an element count.
 *
 * Kernels are single-threaded and allocate nothing: the compiled model splits work across the
 * thread pool (runtime/kernels/Parallel.cpp) and calls a kernel per chunk.
 *===----------------------------------------------------------------------===*/
#ifndef SPARQ_KERNELS_UKERNELS_H
#define SPARQ_KERNELS_UKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of sparq_uk_sgemm_packed_f32. */
#define SPARQ_UK_ACCUMULATE 1 /* C += A * B (else C = A * B) */
#define SPARQ_UK_B_TRANSPOSED 2 /* sparq_uk_sgemm_f32: B is n x k */
#define SPARQ_UK_RELU 4 /* every kernel: store max(result, 0) (the ReLU epilogue) */
#define SPARQ_UK_BIAS 8 /* convolution kernels: start from bias[output channel] (without   \
                           SPARQ_UK_ACCUMULATE) */
#define SPARQ_UK_CAUSAL 16 /* sparq_uk_attention_f32: query i attends keys j <= i + causalOffset */
#define SPARQ_UK_K_ROWS 32 /* sparq_uk_attention_f32: Kt is K itself, B x T x D (ldk its row stride) */
/* sparq_uk_attention_f32: keys per block and query rows per task; kpack holds B x
 * ceil(T / SPARQ_UK_ATTENTION_KEYS) x D x SPARQ_UK_ATTENTION_KEYS floats. */
#define SPARQ_UK_ATTENTION_KEYS 128
#define SPARQ_UK_ATTENTION_ROWS 128
#define SPARQ_UK_RESIDUAL 64 /* sparq_uk_mbconv_f32: add the block input to its output */
#define SPARQ_UK_PROJECTION 128 /* sparq_uk_mbconv_f32: add a 1x1 convolution of the input */
#define SPARQ_UK_FULL_CONV 256 /* sparq_uk_mbconv_f32: the middle convolution is full, not depthwise */
#define SPARQ_UK_PLANE_SCALES 512 /* sparq_uk_lutgemm_f32: one scale s per row and group for every \
                                     plane, alpha_i = s * 2^(i-1) (integer codes as bit planes) */

/* C[m][n] (+)= sum_k A[m][k] * B[k][n] for m < M, n < N, k < K.
 *   A:  row-major with row stride lda (elements); column stride 1.
 *   Bp: B (K x N) packed in panels of sparq_uk_panel_width_f32() columns, K block by K block
 *       (include/sparq/Formats/DensePanels.h: packPanels).
 *   C:  row-major with row stride ldc. */
void sparq_uk_sgemm_packed_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t Bp,
                               int64_t M, int64_t N, int64_t K, int64_t flags);

/* Columns [n0, n1) of the same product, Bp being the whole packed K x Ntotal weight and C the
 * whole result (column 0); n0 must be a multiple of the panel width. Columns outside the range
 * are not touched. This is how work is split over threads. */
void sparq_uk_sgemm_packed_range_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda,
                                     intptr_t Bp, int64_t Ntotal, int64_t n0, int64_t n1,
                                     int64_t M, int64_t K, int64_t flags);

/* For i < batch: C_i[m][n] (+)= sum_k A_i[m][k] * B_i[k][n], X_i = X + i * strideX, with B read
 * as it is at run time (an activation): row-major k x n with row stride ldb, or with
 * SPARQ_UK_B_TRANSPOSED in flags n x k with row stride ldb. A and C row-major (lda, ldc).
 * Slices of B are packed on the fly; used for attention's Q·Kᵀ and P·V. */
void sparq_uk_sgemm_f32(intptr_t C, int64_t strideC, int64_t ldc, intptr_t A, int64_t strideA,
                        int64_t lda, intptr_t B, int64_t strideB, int64_t ldb, int64_t batch,
                        int64_t M, int64_t N, int64_t K, int64_t flags);

/* The panel width (columns per packed panel) this kernel variant was built for. */
int64_t sparq_uk_panel_width_f32(void);

/* Rows per register tile of this variant: the row-tile height of a packed left-hand side. */
int64_t sparq_uk_tile_rows_f32(void);

/* out[n][f][oh][ow] (+)= sum_{c,kh,kw} W[f][c][kh][kw] * in[n][c][oh*SH + kh*DH][ow*SW + kw*DW]
 * for N images (an NCHW convolution on an already padded input).
 *   out: W stride 1; strides of n, f and h given (an H stride of OW lets pixel panels run
 *        across rows).
 *   in:  W stride 1; strides of n, c and h given.
 *   Wp:  the filter as F x (C*KH*KW) rows packed in tiles of sparq_uk_tile_rows_f32() rows
 *        (packRowTiles in include/sparq/Formats/DensePanels.h).
 *   bias: F floats, read with SPARQ_UK_BIAS in flags (the output starts from bias[f]). */
void sparq_uk_conv2d_nchw_packed_f32(intptr_t out, int64_t outStrideN, int64_t outStrideF,
                                     int64_t outStrideH, intptr_t in, int64_t inStrideN,
                                     int64_t inStrideC, int64_t inStrideH, intptr_t Wp, int64_t N,
                                     int64_t F, int64_t C, int64_t KH, int64_t KW, int64_t OH,
                                     int64_t OW, int64_t SH, int64_t SW, int64_t DH, int64_t DW,
                                     intptr_t bias, int64_t flags);

/* Packs a filter computed at run time for sparq_uk_conv2d_nchw_packed_f32: F rows of K floats
 * (row r at src + r * srcRowStride) into tiles of sparq_uk_tile_rows_f32() rows at dst
 * (ceil(F / rows) * K * rows floats; the last tile zero-padded). */
void sparq_uk_pack_filter_f32(intptr_t dst, intptr_t src, int64_t F, int64_t K,
                              int64_t srcRowStride);

/* Multi-threaded sparq_uk_sgemm_packed_f32: the calling thread and the pool's workers each take
 * a contiguous share of the weight's panels (or, with fewer panels than threads, of the rows),
 * so each packs its block of A once. Called outside parallel regions; inside one it runs on
 * the calling thread alone. */
void sparq_uk_sgemm_packed_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t Bp,
                                  int64_t M, int64_t N, int64_t K, int64_t flags);

/* Runs fn(ctx, tid, team) once on each member of a team of the pool's threads (tid 0 is the
 * calling thread); nested calls run with a team of one. */
void sparq_uk_parallel(void (*fn)(void *ctx, int32_t tid, int32_t team), void *ctx);

/* Runs fn(ctx, begin, end) over [0, n) in chunks of `chunk` indices (the last may be shorter),
 * handed out one at a time to the members of a team (sparq_uk_parallel) from a shared counter:
 * a member that starts late (a worker woken from sleep, or descheduled) takes fewer chunks
 * instead of delaying the end of the region. */
void sparq_uk_parallel_chunks(void (*fn)(void *ctx, int64_t begin, int64_t end), void *ctx,
                              int64_t n, int64_t chunk);

/* A convolution block in one pass (runtime/kernels/InvertedResidual.cpp), for n < N and every
 * output row:
 *   h1 = clamp1(biasE + E . x)        1x1 expand, C -> CE channels, at the input's H x W
 *   h2 = clamp2(biasM + M * pad(h1))  KH x KW (both <= 7) middle convolution, strides SH/SW,
 *                                     dilations DH/DW, zero padding padT/padL on top/left
 *                                     (bottom/right follow from OH/OW): depthwise (CM == CE),
 *                                     or with SPARQ_UK_FULL_CONV a full CE -> CM convolution
 *   y = clamp3(biasP + P . h2)        1x1 project, CM -> CO channels
 *   out = clamp4(y + s)               s = x with SPARQ_UK_RESIDUAL (C == CO, OH == H, OW == W);
 *                                     with SPARQ_UK_PROJECTION, s = biasS + S . x[., oh * SH,
 *                                     ow * SW] (a 1x1 shortcut convolution of stride SH/SW);
 *                                     else s = 0
 * (an inverted residual of MobileNetV2/EfficientNet, or a ResNet bottleneck). x is
 * N x C x H x W and out N x CO x OH x OW, NCHW with the given strides (unit stride along W).
 * The weights, biases and clamp bounds come in one buffer packed by
 * sparq::formats::packInvertedResidual (include/sparq/Formats/InvertedResidual.h). h1 and h2
 * never exist whole: each task (a range of output rows) uses invertedResidualScratchBytes(...)
 * of its stack. out must not overlap x. */
void sparq_uk_mbconv_f32(intptr_t out, int64_t outStrideN, int64_t outStrideC,
                         int64_t outStrideH, intptr_t in, int64_t inStrideN, int64_t inStrideC,
                         int64_t inStrideH, intptr_t weights, int64_t N, int64_t C, int64_t H,
                         int64_t W, int64_t CE, int64_t CM, int64_t CO, int64_t KH, int64_t KW,
                         int64_t OH, int64_t OW, int64_t SH, int64_t SW, int64_t DH, int64_t DW,
                         int64_t padT, int64_t padL, int64_t flags);
/* The same, with the output rows of every image split over the pool's threads. */
void sparq_uk_mbconv_f32_mt(intptr_t out, int64_t outStrideN, int64_t outStrideC,
                            int64_t outStrideH, intptr_t in, int64_t inStrideN,
                            int64_t inStrideC, int64_t inStrideH, intptr_t weights, int64_t N,
                            int64_t C, int64_t H, int64_t W, int64_t CE, int64_t CM, int64_t CO,
                            int64_t KH, int64_t KW, int64_t OH, int64_t OW, int64_t SH,
                            int64_t SW, int64_t DH, int64_t DW, int64_t padT, int64_t padL,
                            int64_t flags);

/* The weight buffer of sparq_uk_mbconv_f32 for a block whose filters are computed in the model
 * (decoded from compressed weights at each call): copies `constants` (the buffer packed at
 * compile time, with the biases, the clamps and any constant filter) into `out`, then packs
 * each filter given by a non-zero address over its section: expand CE x C, middle CM x 1 x KH x
 * KW (depthwise) or CM x CE x KH x KW (SPARQ_UK_FULL_CONV), project CO x CM, shortcut CO x C
 * (SPARQ_UK_PROJECTION), each contiguous row-major f32. */
void sparq_uk_mbconv_pack_f32(intptr_t out, intptr_t constants, intptr_t expand, intptr_t middle,
                              intptr_t project, intptr_t shortcut, int64_t C, int64_t CE,
                              int64_t CM, int64_t CO, int64_t KH, int64_t KW, int64_t flags);

/* Attention with an online softmax (runtime/kernels/Attention.cpp), for b < B, i < S, d < D:
 *   O[b][i][d] = sum_{j < T} softmax_j(scale * sum_e Q[b][i][e] * Kt[b][e][j] + mask[b][i][j]) * V[b][j][d]
 * where X[b][r][c] = X + b * strideX + r * ldX + c (unit stride along the last index): Q is
 * B x S x D, Kt is K transposed (B x D x T) or, with SPARQ_UK_K_ROWS in flags, K itself
 * (B x T x D: Kt[b][e][j] = K[b][j][e], ldk the stride of its rows), V is B x T x D, O is
 * B x S x D; mask (0: none) is B x S x T (strideM 0 broadcasts it). SPARQ_UK_CAUSAL in flags excludes the keys j > i +
 * causalOffset (causalOffset >= 0: every row attends key 0). The S x T scores never exist
 * whole: keys are streamed in blocks with a running maximum and sum per row. D <= 256 (larger D
 * returns without writing O); a row whose keys are all masked (-inf) gives NaN, as softmax
 * does. The _mt form splits (batch, block of SPARQ_UK_ATTENTION_ROWS query rows) tasks over the
 * pool's threads. kpack (0: none) is scratch of the size above (64-byte aligned): with more
 * than SPARQ_UK_ATTENTION_ROWS query rows (S) the kernel first packs every key block of Kᵀ into
 * it once (in parallel), and every task of the batch reads that copy; otherwise, or without it,
 * each task of a full register group of rows copies (or, from K rows, transposes) the blocks
 * it reads itself. */
void sparq_uk_attention_f32(intptr_t O, int64_t strideO, int64_t ldo, intptr_t Q,
                            int64_t strideQ, int64_t ldq, intptr_t Kt, int64_t strideK,
                            int64_t ldk, intptr_t V, int64_t strideV, int64_t ldv,
                            intptr_t mask, int64_t strideM, int64_t ldm, int64_t B, int64_t S,
                            int64_t T, int64_t D, float scale, int64_t causalOffset,
                            int64_t flags, intptr_t kpack);
void sparq_uk_attention_f32_mt(intptr_t O, int64_t strideO, int64_t ldo, intptr_t Q,
                               int64_t strideQ, int64_t ldq, intptr_t Kt, int64_t strideK,
                               int64_t ldk, intptr_t V, int64_t strideV, int64_t ldv,
                               intptr_t mask, int64_t strideM, int64_t ldm, int64_t B, int64_t S,
                               int64_t T, int64_t D, float scale, int64_t causalOffset,
                               int64_t flags, intptr_t kpack);

/* out[b][c][r] = in[b][r][c] for b < B, r < R, c < C: B transposes of R x C (in, row stride ldi,
 * batch stride inStrideB) into C x R (out, ldo, outStrideB); unit stride along the rows of
 * both (runtime/kernels/Transpose.cpp). */
void sparq_uk_transpose_f32(intptr_t out, int64_t outStrideB, int64_t ldo, intptr_t in,
                            int64_t inStrideB, int64_t ldi, int64_t B, int64_t R, int64_t C);

/* out[r * outStride] += sum of in[r * inStride + i] over i < len, for r < rows (unit stride
 * along a row): a sum over trailing contiguous dims (runtime/kernels/RowSums.cpp). */
void sparq_uk_row_sums_f32(intptr_t out, int64_t outStride, intptr_t in, int64_t inStride,
                           int64_t rows, int64_t len);

/* Buffer accounting of the artifact's allocator (runtime/kernels/Alloc.cpp): the invocation
 * entry point calls sparq_uk_memory_begin; sparq_uk_memory_peak is the peak of the bytes of
 * buffers the model held since then. */
void sparq_uk_memory_begin(void);
int64_t sparq_uk_memory_peak(void);

/* Guarded invocations (runtime/kernels/Alloc.cpp): between begin and end, the blocks the calling
 * thread allocates are listed until freed; end(1) frees the ones still live (a failed
 * invocation), end(0) forgets them (they are the outputs). end returns 0 when a block could not
 * be listed (out of memory), 1 otherwise. sparq_uk_memory_live: the bytes of blocks in use since
 * sparq_uk_memory_begin (for tests). */
void sparq_uk_memory_guard_begin(void);
int32_t sparq_uk_memory_guard_end(int32_t release);
int64_t sparq_uk_memory_live(void);

/* The run-time error channel (runtime/kernels/Checks.cpp). sparq_uk_invoke_checked calls
 * body(args) and returns 0, or 1 when a run-time check of the model failed; then `error` (of
 * errorSize bytes) holds the check's one-line message and the buffers the invocation allocated
 * are freed. sparq_uk_check_failed(message) is what a failed check calls; it does not return. */
int32_t sparq_uk_invoke_checked(void (*body)(void **), void **args, char *error,
                                int64_t errorSize);
__attribute__((noreturn)) void sparq_uk_check_failed(const char *message);
/* Registers, for invocations on the calling thread, a function that a failed invocation calls
 * after its jump back (to release what the allocator does not track: the device buffers of CUDA
 * artifacts); null unregisters it. */
void sparq_uk_on_invocation_failure(void (*cleanup)(void));

/* The host side of CUDA artifacts (runtime/kernels/GpuLaunch.cpp, docs/cuda.md): besides the
 * mgpu* functions MLIR's gpu-to-llvm lowering calls, sparq_uk_gpu_resident(host, bytes, slot)
 * returns the device copy of a constant buffer (a weight), uploaded on the first call and kept
 * while the artifact is loaded; *slot (the artifact's, one per weight, initially null) caches it
 * for later calls. Failures end the invocation (sparq_uk_check_failed). */
void *sparq_uk_gpu_resident(const void *host, int64_t bytes, void **slot);

/* The tensor-core contractions of CUDA artifacts (docs/cuda.md, "Compressed layers on the tensor
 * cores"): y[M][N] (fp32) = x[M][K] (fp16) W^T, W packed at compile time in the layout of
 * include/sparq/Formats/MmaPanels.h, run by the kernels of runtime/kernels/cuda/MmaGemm.cu, whose
 * fatbin `image` (imageBytes) the artifact holds. `format` is one of SPARQ_MMA_*; planes p0-p2,
 * scales, zeros (0: 1024 + 2^(bits-1)) and meta (2:4 only) are device addresses as MmaArgs takes
 * them, x and y device buffers; M is any size (launched in blocks of tokens), N a multiple of 16,
 * K of 128. The call is ordered after all earlier device work and finishes before it returns.
 * sparq_uk_gpu_mma_emulated computes the same product on the CPU from host buffers, reading the
 * packed layout the way the kernels do (the --cuda-host-emulation test mode; image unused). */
enum {
  SPARQ_MMA_F16 = 0,
  SPARQ_MMA_W8 = 1,
  SPARQ_MMA_W4 = 2,
  SPARQ_MMA_W3 = 3,
  SPARQ_MMA_W2 = 4,
  SPARQ_MMA_SP24W4 = 5,
  SPARQ_MMA_SP24F16 = 6,
  SPARQ_MMA_BCQ2 = 7,
  SPARQ_MMA_BCQ3 = 8,
  SPARQ_MMA_NUM_FORMATS = 9
};
void sparq_uk_gpu_mma(int64_t image, int64_t imageBytes, int64_t format, int64_t y, int64_t x,
                      int64_t p0, int64_t p1, int64_t p2, int64_t scales, int64_t zeros,
                      int64_t meta, int64_t m, int64_t n, int64_t k);
void sparq_uk_gpu_mma_emulated(int64_t image, int64_t imageBytes, int64_t format, int64_t y,
                               int64_t x, int64_t p0, int64_t p1, int64_t p2, int64_t scales,
                               int64_t zeros, int64_t meta, int64_t m, int64_t n, int64_t k);

/* String elements (runtime/kernels/Strings.cpp, docs/strings.md): an int64 is the address of a
 * NUL-terminated string. sparq_uk_str_arena is the invoking thread's arena of the strings the
 * model makes (passed to the calls that make strings, which may run on any thread);
 * sparq_uk_str_arena_reset frees it (at the start of each invocation, and by the runtime through
 * sparq_model_release_strings_v1). sparq_uk_str_case: action 0 keeps the string, 1 lowers and 2
 * raises ASCII letters. sparq_uk_str_in_list: whether s equals an entry of `list` (entries
 * NUL-terminated, ended by an empty one), ASCII case folded unless caseSensitive. */
int64_t sparq_uk_str_arena(void);
void sparq_uk_str_arena_reset(void);
int64_t sparq_uk_str_empty(void);
int32_t sparq_uk_str_in_list(int64_t s, int64_t list, int32_t caseSensitive);
int64_t sparq_uk_str_case(int64_t arena, int64_t s, int32_t action);
int64_t sparq_uk_str_from_f32(int64_t arena, float v);
int64_t sparq_uk_str_from_f64(int64_t arena, double v);
int64_t sparq_uk_str_from_i64(int64_t arena, int64_t v, int32_t isUnsigned);
float sparq_uk_str_to_f32(int64_t s);
double sparq_uk_str_to_f64(int64_t s);
int64_t sparq_uk_str_to_i64(int64_t s);

/* Kernel timers of an artifact compiled with --profile (runtime/kernels/Profile.cpp). The entry
 * function calls begin(id) before and end(id) after kernel `id` (0 <= id < the table's kernel
 * count, include/sparq/Formats/KernelProfile.h); read copies (nanoseconds, calls) of the first
 * `count` kernels into out[2 * count] and zeroes them when `reset` is non-zero. */
void sparq_uk_profile_begin(int32_t id);
void sparq_uk_profile_end(int32_t id);
void sparq_uk_profile_read(int64_t *out, int64_t count, int32_t reset);

/* Thread pool of the artifact (runtime/kernels/Parallel.cpp). Sets the number of threads later
 * parallel regions use (>= 1; values above 256 are clamped); the default is every online CPU. */
void sparq_uk_set_num_threads(int32_t n);
int32_t sparq_uk_get_num_threads(void);

/* out[n][c][oh][ow] (+)= sum_{kh,kw} W[c][kh][kw] * in[n][c][oh*SH + kh*DH][ow*SW + kw*DW]:
 * an NCHW depthwise convolution on an already padded input. W is C x KH x KW, contiguous;
 * out and in have unit W stride, other strides as given; bias (C floats) as for the
 * convolution kernel. */
void sparq_uk_dwconv2d_nchw_f32(intptr_t out, int64_t outStrideN, int64_t outStrideC,
                                int64_t outStrideH, intptr_t in, int64_t inStrideN,
                                int64_t inStrideC, int64_t inStrideH, intptr_t W, int64_t N,
                                int64_t C, int64_t KH, int64_t KW, int64_t OH, int64_t OW,
                                int64_t SH, int64_t SW, int64_t DH, int64_t DW, intptr_t bias,
                                int64_t flags);

/* C[m][n] (+)= sum_k A[m][k] * W[n][k] for m < M, n < N, k < K, with W group-quantized as
 * sparq_quant packs it (runtime/kernels/QGemm.cpp; docs/packed-formats.md):
 *   codes:  row n at codes + n * codeRowBytes (bytes): K codes of `bits` (1..8) bits as a
 *           little-endian bit stream, code k at bits [k*bits, (k+1)*bits), LSB first
 *           (PackedFormats.h packCodes). Without zero points the codes are `bits`-bit two's
 *           complement (symmetric); with zero points they are unsigned.
 *   scales: float; the scale of row n and group g = k / group at scales[n * scaleStride + g]
 *           (per channel: group = K; per tensor: scaleStride = 0 and group = K; group <= 0 or
 *           > K means K).
 *   zeroPoints: 0 (symmetric) or uint8 values, zp(n, g) at zeroPoints[n * scaleStride + g].
 *   W[n][k] = (code(n, k) - zp(n, g)) * scale(n, g).
 *   A row-major with row stride lda; C row-major with row stride ldc.
 *   flags: SPARQ_UK_ACCUMULATE (C += ...), SPARQ_UK_RELU (store max(., 0)).
 * Small M (<= 16 for v16, 8 for v8) streams the codes once per block of rows of A, dequantizing
 * in registers; larger M dequantizes KC x NR slices of Wᵀ into a buffer and runs the dense
 * register tile over them. */
void sparq_uk_qgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                        int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                        int64_t scaleStride, int64_t bits, int64_t group, int64_t M, int64_t N,
                        int64_t K, int64_t flags);

/* The same, split over the pool's threads by ranges of N (sparq_uk_parallel; with few columns
 * and many rows, by ranges of M); small problems run on the calling thread. Called outside
 * parallel regions (inside one it runs on the calling thread alone). */
void sparq_uk_qgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                           int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                           int64_t scaleStride, int64_t bits, int64_t group, int64_t M,
                           int64_t N, int64_t K, int64_t flags);

/* The product of sparq_uk_qgemm_f32 (same arguments and weight layout) with the activations
 * quantized at run time to int8 per row of A and group of `group` values along K (symmetric:
 * sa = max|x| / 127, qa = round-to-nearest-even(x * 127 / max|x|)), and integer dot products
 * (AVX-512 VNNI where the build enables it; runtime/kernels/QGemmI8.cpp):
 *   C[m][n] (+)= sum_g sa(m,g) * sw(n,g) * sum_{k in g} qa(m,k) * (code(n,k) - zp(n,g))
 * (signed codes: their two's complement value). Only bits = 2, 4 and 8 with groups (after the group <= 0
 * or > K -> K rule) that are a multiple of 32; anything else calls sparq_uk_qgemm_f32. The
 * activations are quantized SPARQ_UK_QGEMM_I8_CHUNK values of K at a time (a stack buffer), each
 * chunk one pass over the rows of codes. */
#define SPARQ_UK_QGEMM_I8_CHUNK 8192
void sparq_uk_qgemm_i8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                           int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                           int64_t scaleStride, int64_t bits, int64_t group, int64_t M,
                           int64_t N, int64_t K, int64_t flags);

/* The same, split over the pool's threads by ranges of N (the activations are quantized once,
 * before the split); small problems run on the calling thread; the fallback is
 * sparq_uk_qgemm_f32_mt. */
void sparq_uk_qgemm_i8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                              int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                              int64_t scaleStride, int64_t bits, int64_t group, int64_t M,
                              int64_t N, int64_t K, int64_t flags);

/* The exact integer product of an ONNX MatMulInteger on the kernel of sparq_uk_qgemm_i8_f32
 * (same weight arguments and layout): A is int8 (row m at A + m * lda bytes), taken as it is
 * with scale 1,
 *   C[m][n] (+)= sum_g sw(n,g) * sum_{k in g} A[m][k] * (code(n,k) - zp(n,g)),
 * each group's integer sum exact; with sw = 1 and |C| < 2^24 every float in it is an exact
 * integer. bits 2, 4 or 8 in groups (after the group <= 0 or > K -> K rule) of a multiple of 32
 * or one group per row; 8-bit codes on x86 need AVX-512 VNNI (the v16vnni bitcode, the VNNI
 * build of the v16 library). Anything else fails the invocation (sparq_uk_check_failed). */
void sparq_uk_qgemm_s8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                           int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                           int64_t scaleStride, int64_t bits, int64_t group, int64_t M,
                           int64_t N, int64_t K, int64_t flags);

/* The same, split over the pool's threads by ranges of N (the activations are copied once,
 * before the split); small problems run on the calling thread. */
void sparq_uk_qgemm_s8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                              int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                              int64_t scaleStride, int64_t bits, int64_t group, int64_t M,
                              int64_t N, int64_t K, int64_t flags);

/* The exact integer product of an ONNX MatMulInteger with a constant weight
 * (runtime/kernels/Int8Gemm.cpp): for int8 A (row m at A + m * lda bytes) and an [N, K] int8
 * weight w laid out as int8 dot-product panels (include/sparq/Formats/PackedFormats.h,
 * int8PackPanels), with one int32 zero point z[n], an int32 term t[n] = 128 * (K * z[n] -
 * sum_k w[n][k]) (wrapping) and a float scale s[n] per row of w:
 *   C[m][n] (+)= s[n] * sum_k A[m][k] * (w[n][k] - z[n])
 * the sum in int32 (exact modulo 2^32), converted to float. K <= SPARQ_UK_IGEMM_MAX_K (4096; more
 * fails the invocation). AVX-512 VNNI dot products in the VNNI builds (the v16vnni bitcode,
 * the v16 library), plain vector code elsewhere. flags: SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU. */
#define SPARQ_UK_IGEMM_MAX_K 4096
void sparq_uk_igemm_s8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t panels,
                           intptr_t zeros, intptr_t terms, intptr_t scales, int64_t M, int64_t N,
                           int64_t K, int64_t flags);

/* The same, split over the pool's threads by pairs of panels (the activations are prepared
 * once per block of 8 rows, before the split); small problems run on the calling thread. */
void sparq_uk_igemm_s8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t panels,
                              intptr_t zeros, intptr_t terms, intptr_t scales, int64_t M,
                              int64_t N, int64_t K, int64_t flags);

/* C[m][n] (+)= sum_k A[m][k] * W[n][k] for m < M, n < N, k < K, with W pruned nmN:nmM along K
 * (nmN < nmM <= 16) and stored in sparq's packed N:M layout (include/sparq/Formats/
 * PackedFormats.h nmPackRow; runtime/kernels/NMGemm.cpp): per row, kept = ceil(K/nmM) * nmN
 * values, group by group in increasing position order, and their in-group positions as
 * ceil(log2 nmM)-bit codes (a little-endian bit stream, nmIndexRowBytes bytes).
 *   indices: row n at indices + n * indexRowBytes (bytes).
 *   values:  fp32 kept values, row n at values + n * valueStride (elements).
 * Kept positions >= K (padding of the last group) are ignored. A and C row-major (lda, ldc).
 * flags: SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU. */
void sparq_uk_nmgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                         int64_t indexRowBytes, intptr_t values, int64_t valueStride,
                         int64_t nmN, int64_t nmM, int64_t M, int64_t N, int64_t K,
                         int64_t flags);

/* The same with the kept values quantized along the kept dimension exactly as
 * sparq_uk_qgemm_f32's weight along K (codes of `bits` bits, row n at codes + n * codeRowBytes;
 * scales/zeroPoints per row and group of `group` kept values, group <= 0 or > kept meaning one
 * group per row; no zero points: two's complement codes). 2:4 with 4-bit codes has the fast
 * GEMV path; every pattern and width 1..8 is computed correctly. */
void sparq_uk_nmqgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                          int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes,
                          intptr_t scales, intptr_t zeroPoints, int64_t scaleStride,
                          int64_t bits, int64_t group, int64_t nmN, int64_t nmM, int64_t M,
                          int64_t N, int64_t K, int64_t flags);

/* Both split over the pool's threads by ranges of N (sparq_uk_parallel); small problems run on
 * the calling thread. Called outside parallel regions. */
void sparq_uk_nmgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                            int64_t indexRowBytes, intptr_t values, int64_t valueStride,
                            int64_t nmN, int64_t nmM, int64_t M, int64_t N, int64_t K,
                            int64_t flags);
void sparq_uk_nmqgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                             int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes,
                             intptr_t scales, intptr_t zeroPoints, int64_t scaleStride,
                             int64_t bits, int64_t group, int64_t nmN, int64_t nmM, int64_t M,
                             int64_t N, int64_t K, int64_t flags);

/* The product of sparq_uk_nmqgemm_f32 (same arguments and weight layout) for 2:4 with 4-bit
 * codes in groups (after the group <= 0 or > kept -> kept rule) of a multiple of 64 kept values
 * or one group per row, with the activations quantized at run time to int8 per row of A and
 * group (the group's 2 * group positions of K; sa = max|x| / 127, qa = round-to-nearest-even(
 * x * 127 / max|x|)), and integer dot products (runtime/kernels/NMGemmI8.cpp):
 *   C[m][n] (+)= sum_g sa(m,g) * sw(n,g) * sum_{kept s in g, pos(s) < K} qa(m, pos(s)) * value(n, s)
 * (value: the code's two's complement, or code - zp). Any other pattern, width or group calls
 * sparq_uk_nmqgemm_f32. The AVX-512 build (v16) uses VBMI (vpermi2b, vpmultishiftqb) and VNNI
 * (vpdpbusd) through function target attributes: call it only on CPUs that have both
 * (sparq-compile selects it for such targets only). */
void sparq_uk_nmqgemm_i8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                             int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes,
                             intptr_t scales, intptr_t zeroPoints, int64_t scaleStride,
                             int64_t bits, int64_t group, int64_t nmN, int64_t nmM, int64_t M,
                             int64_t N, int64_t K, int64_t flags);

/* The same, split over the pool's threads by ranges of N (the activations are quantized once,
 * before the split); small problems run on the calling thread; the fallback is
 * sparq_uk_nmqgemm_f32_mt. */
void sparq_uk_nmqgemm_i8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda,
                                intptr_t indices, int64_t indexRowBytes, intptr_t codes,
                                int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                                int64_t scaleStride, int64_t bits, int64_t group, int64_t nmN,
                                int64_t nmM, int64_t M, int64_t N, int64_t K, int64_t flags);

/* C[m][n] (+)= sum_k A[m][k] * W[n][k] for m < M, n < N, k < K, with W binary-coded as
 * sparq_shiftadd packs it (docs/packed-formats.md; runtime/kernels/LutGemm.cpp):
 * W[n][k] = sum_{i<q} alpha_i(n, k / group) * B_i(n, k), B_i = +-1, q = 1..8 (group <= 0
 * means K), in the layout interleaved by 16 rows that the compiler produces from the stored
 * planes (include/sparq/Formats/PackedFormats.h, bcqInterleaveRows16 and
 * bcqInterleaveScales16):
 *   codes:  plane i, block b of 16 rows, dword d (32 positions of K): 64 bytes at
 *           ((b * q + i) * ceil(K/32) + d) * 64, bytes 4r..4r+3 the sign bytes
 *           4d..4d+3 of row 16b + r (bit k%8 of sign byte k/8 is 1 for +1, 0 for -1; zero past
 *           the row and for rows >= N: padding contributes nothing).
 *   scales: alpha_i(16b + r, g) at scales[((b * q + i) * groups + g) * 16 + r].
 *           With SPARQ_UK_PLANE_SCALES: one scale s(16b + r, g) at scales[(b * groups + g) * 16 + r]
 *           for every plane, alpha_i = s * 2^(i-1).
 *   offsets: null, or o(16b + r, g) at offsets[(b * groups + g) * 16 + r]: then
 *           W[n][k] = sum_i alpha_i(n, g) * B_i(n, k) + o(n, g), g = k / group (integer codes of
 *           B bits as B sign planes: alpha_i = s * 2^(i-1), o = s * ((2^B - 1) / 2 - z),
 *           docs/packed-formats.md).
 *   A row-major with row stride lda; C row-major with row stride ldc.
 *   flags: SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU, SPARQ_UK_PLANE_SCALES.
 * Lookup tables of the 16 signed sums of each chunk of 4 activations (exact fp32) are built per
 * call and indexed by the nibbles of the sign planes; the offsets multiply each group's sum of
 * activations. */
void sparq_uk_lutgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                          intptr_t scales, intptr_t offsets, int64_t q, int64_t group, int64_t M,
                          int64_t N, int64_t K, int64_t flags);

/* The same, split over the pool's threads by blocks of 16 rows of N (sparq_uk_parallel); small
 * problems run on the calling thread. Called outside parallel regions. */
void sparq_uk_lutgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                             intptr_t scales, intptr_t offsets, int64_t q, int64_t group,
                             int64_t M, int64_t N, int64_t K, int64_t flags);

/* The product of sparq_uk_lutgemm_f32 (its arguments but the offsets, the same weight layout;
 * SPARQ_UK_PLANE_SCALES is ignored) with the lookup tables quantized to int8 per row of A and group, and the lookups summed in int32 (T-MAC's table
 * quantization; runtime/kernels/LutGemm.cpp).
 * For row m of A and group g, with T_c[b] the fp32 signed sum of chunk c (((+-x0 +- x1) +- x2)
 * +- x3, left to right; x = 0 past K) and mx(m, g) = max over the group's chunks of
 * (((|x0| + |x1|) + |x2|) + |x3|):
 *   t_c[b] = round-to-nearest-even(T_c[b] * (127 / mx(m, g))) (0 when mx = 0),
 *   C[m][n] (+)= sum_g sum_i alpha_i(n, g) * (mx(m, g) / 127) * sum_{c in g} t_c[nibble_i(n, c)].
 * The groups (after the group <= 0 -> K rule) must be a multiple of 32 or cover the whole row;
 * any other group fails the invocation (sparq_uk_check_failed). The AVX-512 build (v16) uses
 * VBMI (vpermb) and VNNI (vpdpbusd) through function target attributes: call it only on CPUs
 * that have both (sparq-compile selects it for such targets only). */
void sparq_uk_lutgemm_i8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                             intptr_t scales, int64_t q, int64_t group, int64_t M, int64_t N,
                             int64_t K, int64_t flags);

/* The same, split over the pool's threads by blocks of 16 rows of N (each thread builds the
 * tables it reads); small problems run on the calling thread. Called outside parallel
 * regions. */
void sparq_uk_lutgemm_i8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda,
                                intptr_t codes, intptr_t scales, int64_t q, int64_t group,
                                int64_t M, int64_t N, int64_t K, int64_t flags);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPARQ_KERNELS_UKERNELS_H */
