/*===- include/sparq/Runtime/sparq_runtime.h - sparq runtime C API -------*- C -*-===//
 *
 * The deploy-time C API of sparq: load a compiled model artifact (a shared object, see
 * docs/artifact-abi.md), query its signature, bind inputs, run it and read its outputs; plus
 * reading and writing tensors as ONNX TensorProto (.pb) and NumPy (.npy) files.
 *
 * Conventions (see docs/runtime.md):
 *  - Every name is prefixed `sparq_`.
 *  - Every function that can fail returns a `sparq_status_t`: NULL means success; anything else
 *    is an error object owned by the caller, who reads it with sparq_status_message() /
 *    sparq_status_code() and releases it with sparq_status_free(). On error, `out_` parameters
 *    are left untouched.
 *  - Results come back through `out_` parameters.
 *  - Objects come in create/destroy pairs; destroy functions accept NULL and cannot fail.
 *    Accessors of a valid object that cannot fail (tensor rank, dims, data ...) return their
 *    value directly, as IREE's and onnx-mlir's do.
 *  - Each comment states who owns what and which calls may run concurrently.
 *
 *===----------------------------------------------------------------------===*/
#ifndef SPARQ_RUNTIME_SPARQ_RUNTIME_H
#define SPARQ_RUNTIME_SPARQ_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===//
 * Status
 *===----------------------------------------------------------------------===*/

/** Broad class of an error; the message says the rest. */
typedef enum sparq_status_code_e {
  SPARQ_STATUS_OK = 0,
  SPARQ_STATUS_INVALID_ARGUMENT = 1, /**< bad argument: wrong shape, type, index, name */
  SPARQ_STATUS_NOT_FOUND = 2,        /**< a file, symbol or name that does not exist */
  SPARQ_STATUS_FAILED_PRECONDITION = 3, /**< e.g. run with an input left unbound */
  SPARQ_STATUS_DATA_LOSS = 4,        /**< truncated or corrupt file / signature */
  SPARQ_STATUS_UNIMPLEMENTED = 5,    /**< a valid request sparq does not support */
  SPARQ_STATUS_RESOURCE_EXHAUSTED = 6, /**< out of memory, size overflow */
  SPARQ_STATUS_INTERNAL = 7,         /**< the model broke the artifact ABI */
  SPARQ_STATUS_IO_ERROR = 8,         /**< a read or write failed */
} sparq_status_code_t;

/** An error: NULL means success. Owned by whoever received it; release with sparq_status_free.
 *  A status object is not shared between threads by the runtime; it may be moved to and freed
 *  on any thread. */
typedef struct sparq_status_s *sparq_status_t;

/** The error's message, one line without a trailing newline, e.g.
 *  "input 'x' (#0): expected shape 1x3x224x224, got 1x3x224x225". Returns "" for NULL (OK).
 *  The string is owned by `status` and valid until sparq_status_free(status). */
const char *sparq_status_message(sparq_status_t status);

/** The error's class; SPARQ_STATUS_OK for NULL. */
sparq_status_code_t sparq_status_code(sparq_status_t status);

/** Releases `status`; NULL is a no-op. Each status must be freed exactly once. */
void sparq_status_free(sparq_status_t status);

/*===----------------------------------------------------------------------===//
 * Element types
 *===----------------------------------------------------------------------===*/

/** Element types. The values are ONNX's TensorProto.DataType numbers. */
typedef enum sparq_element_type_e {
  SPARQ_ELEMENT_TYPE_UNDEFINED = 0,
  SPARQ_ELEMENT_TYPE_FLOAT32 = 1,
  SPARQ_ELEMENT_TYPE_UINT8 = 2,
  SPARQ_ELEMENT_TYPE_INT8 = 3,
  SPARQ_ELEMENT_TYPE_UINT16 = 4,
  SPARQ_ELEMENT_TYPE_INT16 = 5,
  SPARQ_ELEMENT_TYPE_INT32 = 6,
  SPARQ_ELEMENT_TYPE_INT64 = 7,
  SPARQ_ELEMENT_TYPE_STRING = 8, /**< `const char *` per element, see sparq_tensor_create */
  SPARQ_ELEMENT_TYPE_BOOL = 9, /**< one byte, 0 or 1 */
  SPARQ_ELEMENT_TYPE_FLOAT16 = 10,
  SPARQ_ELEMENT_TYPE_FLOAT64 = 11,
  SPARQ_ELEMENT_TYPE_UINT32 = 12,
  SPARQ_ELEMENT_TYPE_UINT64 = 13,
  SPARQ_ELEMENT_TYPE_BFLOAT16 = 16,
  /* Not a type: makes every non-negative int a value of the enum, so that the functions that
   * refuse unknown types may be given any (a C caller can pass any int; in C++ a value outside
   * the enumerators' range would be undefined behaviour). */
  SPARQ_ELEMENT_TYPE_RANGE_END_ = 0x7fffffff
} sparq_element_type_t;

/** The signature spelling of `type` ("float32", "bool", ...), or "undefined" for an unknown
 *  value. The string is static. Thread-safe. */
const char *sparq_element_type_name(sparq_element_type_t type);

/** Size in bytes of one element of `type`; 0 for an unknown value. Thread-safe. */
size_t sparq_element_type_size(sparq_element_type_t type);

/** Parses a signature spelling ("float32" ...) into `*out_type`. Thread-safe. */
sparq_status_t sparq_element_type_from_name(const char *name, sparq_element_type_t *out_type);

/** IEEE binary16 / bfloat16 bit patterns to and from float (round to nearest even). Pure. */
float sparq_float16_to_float32(uint16_t bits);
uint16_t sparq_float32_to_float16(float value);
float sparq_bfloat16_to_float32(uint16_t bits);
uint16_t sparq_float32_to_bfloat16(float value);

/*===----------------------------------------------------------------------===//
 * Tensors
 *===----------------------------------------------------------------------===*/

/** The largest rank sparq accepts anywhere (tensors, signatures, files). */
#define SPARQ_MAX_RANK 64

/** A dense, contiguous, row-major tensor: element type, dims, data and an optional name.
 *  Its type and dims never change after creation. Any number of threads may read a tensor
 *  concurrently; writes to its data must not race with reads (the runtime does not lock). */
typedef struct sparq_tensor_s sparq_tensor_t;

/** Creates a tensor that owns a copy of `data` (or zeros when `data` is NULL).
 *  `dims` holds `rank` non-negative sizes (may be NULL when rank is 0). `data`, if given, must
 *  hold the product of dims times sparq_element_type_size(type) bytes; it is copied and not
 *  retained. The buffer is 64-byte aligned. The caller owns `*out_tensor` and releases it with
 *  sparq_tensor_destroy. Thread-safe.
 *
 *  SPARQ_ELEMENT_TYPE_STRING: `data` is a `const char *const *` array of one pointer per
 *  element (row-major), each a NUL-terminated byte string (UTF-8 in practice) or NULL, read as
 *  "". Every string is copied into storage the tensor owns; with `data` NULL every element is
 *  "". The tensor's data is then its own array of `const char *` pointing into that storage
 *  (byte size: elements times sizeof(char *)); a pointer the caller stores there later must
 *  outlive the tensor. */
sparq_status_t sparq_tensor_create(sparq_element_type_t type, int64_t rank, const int64_t *dims,
                                   const void *data, sparq_tensor_t **out_tensor);

/** Creates a tensor that wraps the caller's memory without copying. `data` holds
 *  `data_size` bytes, at least the product of dims times the element size, contiguous
 *  row-major. The caller keeps ownership of `data` and must keep it alive (and not free it)
 *  until the tensor is destroyed; sparq_tensor_destroy does not free it. The caller owns
 *  `*out_tensor`. Thread-safe.
 *
 *  SPARQ_ELEMENT_TYPE_STRING: `data` is the caller's array of `const char *` (one per element,
 *  NUL-terminated strings; NULL reads as ""). Neither the array nor the strings are copied:
 *  the caller keeps both alive and unchanged until the tensor is destroyed. */
sparq_status_t sparq_tensor_wrap(sparq_element_type_t type, int64_t rank, const int64_t *dims,
                                 void *data, size_t data_size, sparq_tensor_t **out_tensor);

/** Destroys a tensor (and its data if it owns it); NULL is a no-op. The tensor must not be
 *  bound to a session that will still run, nor be in use on another thread. */
void sparq_tensor_destroy(sparq_tensor_t *tensor);

/** Accessors; `tensor` must be valid. Returned pointers are owned by the tensor and valid
 *  until it is destroyed. Thread-safe (they read immutable fields). */
sparq_element_type_t sparq_tensor_element_type(const sparq_tensor_t *tensor);
int64_t sparq_tensor_rank(const sparq_tensor_t *tensor);
const int64_t *sparq_tensor_dims(const sparq_tensor_t *tensor); /**< `rank` entries */
int64_t sparq_tensor_num_elements(const sparq_tensor_t *tensor);
size_t sparq_tensor_byte_size(const sparq_tensor_t *tensor);
void *sparq_tensor_data(const sparq_tensor_t *tensor); /**< may be NULL for 0 elements */
const char *sparq_tensor_name(const sparq_tensor_t *tensor); /**< "" when unnamed */

/** Sets the tensor's name (copied; NULL clears it). Used as TensorProto.name when written to
 *  a .pb file. Not thread-safe with respect to other uses of the same tensor. */
sparq_status_t sparq_tensor_set_name(sparq_tensor_t *tensor, const char *name);

/*===----------------------------------------------------------------------===//
 * Tensor files: ONNX TensorProto (.pb) and NumPy (.npy), without protobuf or numpy.
 *
 * Errors name the file (or `source_name`) and the byte offset and reason of the problem.
 * All functions are thread-safe; the returned tensor is owned by the caller.
 *===----------------------------------------------------------------------===*/

/** Reads a serialized onnx.TensorProto. Accepts raw_data or the typed fields (float_data,
 *  int32_data, int64_data, double_data, uint64_data) per ONNX rules, packed or not, and
 *  string_data for STRING tensors (a string containing a NUL byte is rejected with
 *  SPARQ_STATUS_UNIMPLEMENTED); the tensor's name is set from TensorProto.name. External data
 *  and segments are rejected with SPARQ_STATUS_UNIMPLEMENTED. */
sparq_status_t sparq_tensor_read_pb(const char *path, sparq_tensor_t **out_tensor);

/** Like sparq_tensor_read_pb, from `size` bytes at `data`; `source_name` (may be NULL) is the
 *  name used in error messages. `data` is not retained. */
sparq_status_t sparq_tensor_decode_pb(const void *data, size_t size, const char *source_name,
                                      sparq_tensor_t **out_tensor);

/** Writes `tensor` as a TensorProto with dims, data_type, name (if set) and raw_data
 *  (little-endian), the layout onnx.numpy_helper.from_array produces; a STRING tensor's
 *  elements go to string_data instead. */
sparq_status_t sparq_tensor_write_pb(const sparq_tensor_t *tensor, const char *path);

/** Reads a .npy file (format version 1.0, 2.0 or 3.0, little-endian or byte-order-free
 *  descr, C order). Fortran order, big-endian and object/structured dtypes are rejected.
 *  bfloat16 has no NumPy spelling and cannot be stored in .npy; string tensors (NumPy 'U', 'S'
 *  and 'O' dtypes) are not supported in .npy either (SPARQ_STATUS_UNIMPLEMENTED: use .pb). */
sparq_status_t sparq_tensor_read_npy(const char *path, sparq_tensor_t **out_tensor);

/** Like sparq_tensor_read_npy, from memory; `source_name` (may be NULL) names it in errors. */
sparq_status_t sparq_tensor_decode_npy(const void *data, size_t size, const char *source_name,
                                       sparq_tensor_t **out_tensor);

/** Writes `tensor` as .npy (version 1.0, or 2.0 when the header needs it). bfloat16 and
 *  string tensors are refused with SPARQ_STATUS_UNIMPLEMENTED. */
sparq_status_t sparq_tensor_write_npy(const sparq_tensor_t *tensor, const char *path);

/** Reads a .pb or .npy file chosen by the file name's extension; any other extension is an
 *  error. */
sparq_status_t sparq_tensor_read_file(const char *path, sparq_tensor_t **out_tensor);

/*===----------------------------------------------------------------------===//
 * Models
 *===----------------------------------------------------------------------===*/

/** A loaded artifact: its dlopen handle and its parsed signature. Immutable after load, so
 *  every query function may be called concurrently from any number of threads. Reference
 *  counted internally: sessions keep their model alive, so sparq_model_destroy may be called
 *  while sessions created from it still exist. */
typedef struct sparq_model_s sparq_model_t;

/** Description of one input or output of a model. Every pointer is owned by the model and
 *  valid until the model is released. */
typedef struct sparq_tensor_info_s {
  const char *name;                 /**< the ONNX value name, %XX escapes decoded */
  sparq_element_type_t element_type;
  int64_t rank;
  const int64_t *dims;              /**< `rank` entries; -1 marks a dynamic dimension */
} sparq_tensor_info_t;

/** Loads the artifact at `path` with dlopen, looks up sparq_model_signature_v1 and
 *  sparq_model_invoke_v2 (an artifact of ABI version 1 is refused with
 *  SPARQ_STATUS_FAILED_PRECONDITION) and parses the signature strictly. Errors name the path
 *  (and give dlerror's text, or the line of the signature that is malformed). The caller owns
 *  `*out_model`. Thread-safe. */
sparq_status_t sparq_model_load(const char *path, sparq_model_t **out_model);

/** Releases the caller's reference to `model`; the artifact is unloaded once the last session
 *  created from it is destroyed too. NULL is a no-op. */
void sparq_model_destroy(sparq_model_t *model);

/** The path the model was loaded from (owned by the model). Thread-safe. */
const char *sparq_model_path(const sparq_model_t *model);

/** One kernel of an artifact compiled with `sparq-compile --profile` (docs/profile.md): a fused
 *  block, a single op or a compressed-weight kernel call, in the order the entry point runs
 *  them. */
typedef struct sparq_kernel_profile_s {
  const char *kind; /**< e.g. "fused block", "conv_2d_nchw_fchw", "elementwise", "qgemm_f32" */
  const char *name; /**< the ONNX node names it computes, joined by '+' */
  int64_t flops;    /**< arithmetic ops per call (a multiply-add counts 2); -1: unknown */
  int64_t bytes;    /**< least bytes moved per call (inputs read once, results written once);
                         -1: unknown */
  int64_t calls;    /**< calls since the timers were last reset */
  double seconds;   /**< time spent in it since then */
} sparq_kernel_profile_t;

/** Reads the kernel timers of a profiled artifact: `*out_kernels` (owned by the model, valid
 *  until the next call of this function on the model or its destruction) has `*out_count`
 *  entries. With `reset` non-zero the timers restart from zero after the read. The timers
 *  belong to the loaded artifact: every session of it counts. UNIMPLEMENTED for an artifact
 *  compiled without --profile. Not thread-safe with itself or with a run of the model. */
sparq_status_t sparq_model_profile(sparq_model_t *model, int reset, size_t *out_count,
                                   const sparq_kernel_profile_t **out_kernels);

/** Number of inputs / outputs of the model's entry point. Thread-safe. */
sparq_status_t sparq_model_num_inputs(const sparq_model_t *model, size_t *out_count);
sparq_status_t sparq_model_num_outputs(const sparq_model_t *model, size_t *out_count);

/** Describes input / output `index` (0-based, graph order). Thread-safe. */
sparq_status_t sparq_model_input_info(const sparq_model_t *model, size_t index,
                                      sparq_tensor_info_t *out_info);
sparq_status_t sparq_model_output_info(const sparq_model_t *model, size_t index,
                                       sparq_tensor_info_t *out_info);

/** Finds the index of the input / output called `name` (decoded spelling). Thread-safe. */
sparq_status_t sparq_model_find_input(const sparq_model_t *model, const char *name,
                                      size_t *out_index);
sparq_status_t sparq_model_find_output(const sparq_model_t *model, const char *name,
                                       size_t *out_index);

/*===----------------------------------------------------------------------===//
 * Sessions
 *===----------------------------------------------------------------------===*/

/** The state of one caller running a model: bound inputs and the outputs of the last run.
 *  A session is not thread-safe: use it from one thread at a time. Different sessions (of the
 *  same model or not) may run concurrently; the artifact's entry point is reentrant. */
typedef struct sparq_session_s sparq_session_t;

/** Creates a session on `model` (which it retains). The caller owns `*out_session`. */
sparq_status_t sparq_session_create(sparq_model_t *model, sparq_session_t **out_session);

/** Destroys a session and the output tensors it still owns; NULL is a no-op. */
void sparq_session_destroy(sparq_session_t *session);

/** Binds `tensor` to input `index` after checking its element type, rank and static dims
 *  against the signature (dims of -1 accept any size). The session borrows `tensor`: the
 *  caller keeps ownership and must keep it alive and unchanged until the next run returns or
 *  the input is rebound. Errors say which input, what was expected and what was given, e.g.
 *  "input 'x' (#0): expected shape 1x3x224x224, got 1x3x224x225". */
sparq_status_t sparq_session_bind_input(sparq_session_t *session, size_t index,
                                        const sparq_tensor_t *tensor);

/** Like sparq_session_bind_input, selecting the input by its (decoded) name. */
sparq_status_t sparq_session_bind_input_by_name(sparq_session_t *session, const char *name,
                                                const sparq_tensor_t *tensor);

/** Binds all inputs at once, in graph order; `count` must equal the model's input count.
 *  Borrows the tensors like sparq_session_bind_input. */
sparq_status_t sparq_session_bind_inputs(sparq_session_t *session, size_t count,
                                         const sparq_tensor_t *const *tensors);

/** Forwards to the artifact's optional sparq_model_set_num_threads_v1. `num_threads` must be
 *  >= 1. If the artifact lacks the symbol, 1 is accepted (a no-op) and anything larger is an
 *  UNIMPLEMENTED error. The setting belongs to the loaded artifact, so it affects every session
 *  of every model loaded from the same file; do not call it while another thread runs one. */
sparq_status_t sparq_session_set_num_threads(sparq_session_t *session, int num_threads);

/** Runs the model on the bound inputs. Checks that every input is bound, calls the entry
 *  point and makes each output a contiguous row-major tensor owned by the session: the model's
 *  own buffer when it already is one (no copy), else a copy (whatever the strides the model
 *  returned). Outputs of the previous run are destroyed first (unless taken), their buffers
 *  given back to the artifact for this run. On error no outputs are available. Inputs whose
 *  sizes the compiled code cannot handle (dimensions that must agree, indices out of range:
 *  the model's run-time checks) are SPARQ_STATUS_INVALID_ARGUMENT, with the check's message
 *  naming the ONNX node. A STRING output is always copied, its strings included, into a
 *  tensor that owns them (the model's strings are valid only until its next call on the same
 *  thread). */
sparq_status_t sparq_session_run(sparq_session_t *session);

/** Peak bytes of the buffers (intermediates and outputs) the model held during the last
 *  sparq_session_run of this session, as counted by the artifact's allocator. The counters
 *  belong to the loaded artifact: with concurrent runs of one artifact the figure covers them
 *  together. FAILED_PRECONDITION before the first run; UNIMPLEMENTED for artifacts without
 *  sparq_model_peak_bytes_v1. Not thread-safe with a concurrent run of the same session. */
sparq_status_t sparq_session_peak_bytes(const sparq_session_t *session, int64_t *out_bytes);

/** Output `index` of the last successful run. The tensor stays owned by the session and valid
 *  until the next sparq_session_run, sparq_session_take_output of the same index or
 *  sparq_session_destroy. Its name is the output's name. */
sparq_status_t sparq_session_output(const sparq_session_t *session, size_t index,
                                    const sparq_tensor_t **out_tensor);

/** Moves output `index` of the last run out of the session: the caller owns `*out_tensor` and
 *  destroys it with sparq_tensor_destroy. A second take of the same index is an error. */
sparq_status_t sparq_session_take_output(sparq_session_t *session, size_t index,
                                         sparq_tensor_t **out_tensor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPARQ_RUNTIME_SPARQ_RUNTIME_H */
