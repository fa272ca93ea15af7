//===- runtime/tests/ModelTest.cpp - load/bind/run against fake artifacts -*- C++ -*-===//
//
// End-to-end tests of sparq_model_* and sparq_session_* against the hand-written artifacts
// fake_*.c (built as shared objects next to this test). Results are checked against plain
// loops written here.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <dlfcn.h>

#include <atomic>
#include <cstring>
#include <thread>

using namespace sparq::runtime::test;

extern "C" int sparq_rt_c_smoke(const char *artifact); // CApiSmoke.c

namespace {

TEST(CApi, UsableFromC) { EXPECT_EQ(sparq_rt_c_smoke(SPARQ_RT_FAKE_ADD), 0); }

ModelPtr load(const char *path) {
  sparq_model_t *model = nullptr;
  StatusInfo info = take(sparq_model_load(path, &model));
  EXPECT_TRUE(info.ok) << info.message;
  return ModelPtr(model);
}

SessionPtr newSession(const ModelPtr &model) {
  sparq_session_t *session = nullptr;
  StatusInfo info = take(sparq_session_create(model.get(), &session));
  EXPECT_TRUE(info.ok) << info.message;
  return SessionPtr(session);
}

template <typename T>
TensorPtr makeTensor(sparq_element_type_t type, std::vector<int64_t> dims,
                     const std::vector<T> &data) {
  sparq_tensor_t *raw = nullptr;
  StatusInfo info = take(sparq_tensor_create(type, int64_t(dims.size()), dims.data(),
                                             data.empty() ? nullptr : data.data(), &raw));
  EXPECT_TRUE(info.ok) << info.message;
  return TensorPtr(raw);
}

template <typename T> std::vector<T> valuesOf(const sparq_tensor_t *tensor) {
  const T *data = static_cast<const T *>(sparq_tensor_data(tensor));
  return std::vector<T>(data, data + sparq_tensor_num_elements(tensor));
}

const sparq_tensor_t *output(const SessionPtr &session, size_t index) {
  const sparq_tensor_t *tensor = nullptr;
  StatusInfo info = take(sparq_session_output(session.get(), index, &tensor));
  EXPECT_TRUE(info.ok) << info.message;
  return tensor;
}

TEST(Model, SignatureQueries) {
  ModelPtr model = load(SPARQ_RT_FAKE_DYN);
  ASSERT_TRUE(model);
  EXPECT_STREQ(sparq_model_path(model.get()), SPARQ_RT_FAKE_DYN);
  size_t inputs = 0, outputs = 0;
  SPARQ_ASSERT_OK(sparq_model_num_inputs(model.get(), &inputs));
  SPARQ_ASSERT_OK(sparq_model_num_outputs(model.get(), &outputs));
  EXPECT_EQ(inputs, 2u);
  EXPECT_EQ(outputs, 2u);
  sparq_tensor_info_t info;
  SPARQ_ASSERT_OK(sparq_model_input_info(model.get(), 0, &info));
  EXPECT_STREQ(info.name, "in put");
  EXPECT_EQ(info.element_type, SPARQ_ELEMENT_TYPE_FLOAT32);
  ASSERT_EQ(info.rank, 2);
  EXPECT_EQ(info.dims[0], -1);
  EXPECT_EQ(info.dims[1], 4);
  SPARQ_ASSERT_OK(sparq_model_input_info(model.get(), 1, &info));
  EXPECT_STREQ(info.name, "k");
  EXPECT_EQ(info.element_type, SPARQ_ELEMENT_TYPE_INT64);
  EXPECT_EQ(info.rank, 0);
  SPARQ_ASSERT_OK(sparq_model_output_info(model.get(), 1, &info));
  EXPECT_STREQ(info.name, "row sums");
  EXPECT_EQ(info.element_type, SPARQ_ELEMENT_TYPE_INT64);
  ASSERT_EQ(info.rank, 1);
  EXPECT_EQ(info.dims[0], -1);

  size_t index = 99;
  SPARQ_ASSERT_OK(sparq_model_find_input(model.get(), "k", &index));
  EXPECT_EQ(index, 1u);
  SPARQ_ASSERT_OK(sparq_model_find_output(model.get(), "row sums", &index));
  EXPECT_EQ(index, 1u);
  StatusInfo missing = take(sparq_model_find_input(model.get(), "in%20put", &index));
  EXPECT_EQ(missing.code, SPARQ_STATUS_NOT_FOUND);
  EXPECT_EQ(missing.message, std::string("model '") + SPARQ_RT_FAKE_DYN +
                                 "' has no input named 'in%20put' (inputs: 'in put', 'k')");
  StatusInfo range = take(sparq_model_output_info(model.get(), 2, &info));
  EXPECT_EQ(range.message, std::string("output index 2 is out of range (model '") +
                               SPARQ_RT_FAKE_DYN + "' has 2 outputs)");
}

TEST(Model, AddMatchesALoop) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {0.5f, -1, 10, 0, 2.25f, -6};
  TensorPtr ta = makeTensor(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, a);
  // The second input wraps caller memory.
  sparq_tensor_t *raw = nullptr;
  int64_t dims[2] = {2, 3};
  SPARQ_ASSERT_OK(sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, b.data(),
                                    b.size() * sizeof(float), &raw));
  TensorPtr tb(raw);
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, ta.get()));
  SPARQ_ASSERT_OK(sparq_session_bind_input_by_name(session.get(), "b", tb.get()));
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  const sparq_tensor_t *sum = output(session, 0);
  ASSERT_NE(sum, nullptr);
  EXPECT_STREQ(sparq_tensor_name(sum), "sum");
  EXPECT_EQ(sparq_tensor_element_type(sum), SPARQ_ELEMENT_TYPE_FLOAT32);
  EXPECT_EQ(dimsOf(sum), (std::vector<int64_t>{2, 3}));
  std::vector<float> expected(6);
  for (size_t i = 0; i < 6; ++i)
    expected[i] = a[i] + b[i];
  EXPECT_EQ(valuesOf<float>(sum), expected);

  // Rebinding via bind_inputs and running again replaces the outputs.
  b[0] = 100;
  const sparq_tensor_t *both[2] = {tb.get(), ta.get()};
  SPARQ_ASSERT_OK(sparq_session_bind_inputs(session.get(), 2, both));
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  for (size_t i = 0; i < 6; ++i)
    expected[i] = a[i] + b[i];
  EXPECT_EQ(valuesOf<float>(output(session, 0)), expected);
}

TEST(Model, InputMismatchesAreReportedNotRun) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  TensorPtr good = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, {});
  TensorPtr wrongType = makeTensor<int32_t>(SPARQ_ELEMENT_TYPE_INT32, {2, 3}, {});
  TensorPtr wrongShape = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 4}, {});
  TensorPtr wrongRank = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {6}, {});

  StatusInfo info = take(sparq_session_bind_input(session.get(), 0, wrongType.get()));
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, "input 'a' (#0): expected element type float32, got int32");
  info = take(sparq_session_bind_input(session.get(), 1, wrongShape.get()));
  EXPECT_EQ(info.message, "input 'b' (#1): expected shape 2x3, got 2x4");
  info = take(sparq_session_bind_input_by_name(session.get(), "a", wrongRank.get()));
  EXPECT_EQ(info.message, "input 'a' (#0): expected shape 2x3 (rank 2), got 6 (rank 1)");
  info = take(sparq_session_bind_input(session.get(), 2, good.get()));
  EXPECT_EQ(info.message, std::string("input index 2 is out of range (model '") +
                              SPARQ_RT_FAKE_ADD + "' has 2 inputs)");
  info = take(sparq_session_bind_input_by_name(session.get(), "c", good.get()));
  EXPECT_EQ(info.code, SPARQ_STATUS_NOT_FOUND);
  EXPECT_EQ(info.message, std::string("model '") + SPARQ_RT_FAKE_ADD +
                              "' has no input named 'c' (inputs: 'a', 'b')");

  const sparq_tensor_t *one[1] = {good.get()};
  info = take(sparq_session_bind_inputs(session.get(), 1, one));
  EXPECT_EQ(info.message, std::string("model '") + SPARQ_RT_FAKE_ADD + "' expects 2 inputs, got 1");
  const sparq_tensor_t *mixed[2] = {good.get(), wrongShape.get()};
  info = take(sparq_session_bind_inputs(session.get(), 2, mixed));
  EXPECT_EQ(info.message, "input 'b' (#1): expected shape 2x3, got 2x4");

  // Nothing was bound by the failed calls: running reports the first unbound input.
  info = take(sparq_session_run(session.get()));
  EXPECT_EQ(info.code, SPARQ_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(info.message, "input 'a' (#0) is not bound (the model has 2 inputs)");
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, good.get()));
  info = take(sparq_session_run(session.get()));
  EXPECT_EQ(info.message, "input 'b' (#1) is not bound (the model has 2 inputs)");

  const sparq_tensor_t *out = nullptr;
  info = take(sparq_session_output(session.get(), 0, &out));
  EXPECT_EQ(info.code, SPARQ_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(info.message,
            "sparq_session_output: no outputs (sparq_session_run has not succeeded)");
}

TEST(Model, OutputThatBreaksTheSignatureIsAnErrorAndIsFreed) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  TensorPtr a = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, {12345, 0, 0, 0, 0, 0});
  TensorPtr b = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, {});
  const sparq_tensor_t *inputs[2] = {a.get(), b.get()};
  SPARQ_ASSERT_OK(sparq_session_bind_inputs(session.get(), 2, inputs));
  StatusInfo info = take(sparq_session_run(session.get()));
  EXPECT_EQ(info.code, SPARQ_STATUS_INTERNAL);
  EXPECT_EQ(info.message, std::string("model '") + SPARQ_RT_FAKE_ADD +
                              "' returned output 'sum' (#0) with shape 2x4, its signature says "
                              "2x3");
}

TEST(Model, FailedRunTimeCheckIsAnErrorWithTheArtifactsMessage) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  TensorPtr a = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, {-1, 0, 0, 0, 0, 0});
  TensorPtr b = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, {});
  const sparq_tensor_t *inputs[2] = {a.get(), b.get()};
  SPARQ_ASSERT_OK(sparq_session_bind_inputs(session.get(), 2, inputs));
  StatusInfo info = take(sparq_session_run(session.get()));
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, std::string("model '") + SPARQ_RT_FAKE_ADD +
                              "': run-time check failed: node 'fake_add': a check failed");
  const sparq_tensor_t *out = nullptr;
  EXPECT_EQ(take(sparq_session_output(session.get(), 0, &out)).code,
            SPARQ_STATUS_FAILED_PRECONDITION);
  // The session stays usable.
  TensorPtr good = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, {1, 2, 3, 4, 5, 6});
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, good.get()));
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  EXPECT_EQ(valuesOf<float>(output(session, 0)), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(Model, ContiguousOutputsAreAdoptedAndReleasedToTheArtifact) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  void *handle = dlopen(SPARQ_RT_FAKE_ADD, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  auto lastOutput = reinterpret_cast<void *(*)()>(dlsym(handle, "fake_add_last_output"));
  auto lastReleased = reinterpret_cast<void *(*)()>(dlsym(handle, "fake_add_last_released"));
  auto released = reinterpret_cast<int (*)()>(dlsym(handle, "fake_add_released"));
  ASSERT_TRUE(lastOutput && lastReleased && released);
  SessionPtr session = newSession(model);
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {1, 1, 1, 1, 1, 1};
  TensorPtr ta = makeTensor(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, a);
  TensorPtr tb = makeTensor(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, b);
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, ta.get()));
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 1, tb.get()));
  int before = released();
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  // The contiguous output is the model's block itself, not a copy.
  void *first = lastOutput();
  EXPECT_EQ(sparq_tensor_data(output(session, 0)), first);
  EXPECT_EQ(valuesOf<float>(output(session, 0)), (std::vector<float>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(released(), before);
  // The next run gives it back to the artifact.
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  EXPECT_EQ(released(), before + 1);
  EXPECT_EQ(lastReleased(), first);
  // A taken output is the caller's: destroying it (even after the session) uses free().
  sparq_tensor_t *taken = nullptr;
  SPARQ_ASSERT_OK(sparq_session_take_output(session.get(), 0, &taken));
  EXPECT_EQ(sparq_tensor_data(taken), lastOutput());
  session.reset();
  sparq_tensor_destroy(taken);
  EXPECT_EQ(released(), before + 1);
  dlclose(handle);
}

TEST(Model, NumThreadsIsForwardedWhenExported) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  SPARQ_ASSERT_OK(sparq_session_set_num_threads(session.get(), 3));
  void *handle = dlopen(SPARQ_RT_FAKE_ADD, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  auto numThreads = reinterpret_cast<int (*)()>(dlsym(handle, "fake_add_num_threads"));
  ASSERT_NE(numThreads, nullptr);
  EXPECT_EQ(numThreads(), 3);
  dlclose(handle);
  StatusInfo info = take(sparq_session_set_num_threads(session.get(), 0));
  EXPECT_EQ(info.message, "sparq_session_set_num_threads: the thread count must be >= 1, got 0");
}

TEST(Model, PeakBytesIsForwardedWhenExported) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  int64_t bytes = -1;
  StatusInfo early = take(sparq_session_peak_bytes(session.get(), &bytes));
  EXPECT_EQ(early.code, SPARQ_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(bytes, -1);
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {6, 5, 4, 3, 2, 1};
  TensorPtr ta = makeTensor(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, a);
  TensorPtr tb = makeTensor(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 3}, b);
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, ta.get()));
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 1, tb.get()));
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  SPARQ_ASSERT_OK(sparq_session_peak_bytes(session.get(), &bytes));
  EXPECT_EQ(bytes, 4242); // what fake_add.c's sparq_model_peak_bytes_v1 returns

  // An artifact without the symbol.
  ModelPtr dyn = load(SPARQ_RT_FAKE_DYN);
  ASSERT_TRUE(dyn);
  SessionPtr dynSession = newSession(dyn);
  StatusInfo missing = take(sparq_session_peak_bytes(dynSession.get(), &bytes));
  EXPECT_EQ(missing.code, SPARQ_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(missing.message, std::string("artifact '") + SPARQ_RT_FAKE_DYN +
                                 "' does not report its buffer memory (no "
                                 "sparq_model_peak_bytes_v1)");
}

TEST(Model, DynamicDimsAcceptAnySizeAndMatchALoop) {
  ModelPtr model = load(SPARQ_RT_FAKE_DYN);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  SPARQ_EXPECT_OK(sparq_session_set_num_threads(session.get(), 1));
  StatusInfo threads = take(sparq_session_set_num_threads(session.get(), 4));
  EXPECT_EQ(threads.code, SPARQ_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(threads.message, std::string("artifact '") + SPARQ_RT_FAKE_DYN +
                                 "' was compiled without multi-threading support (it does not "
                                 "export sparq_model_set_num_threads_v1); cannot use 4 threads");

  for (int64_t rows : {3, 1, 0, 5}) {
    std::vector<float> x(size_t(rows * 4));
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = float(int(i * 7 % 11) - 5) * 0.5f;
    TensorPtr tx = makeTensor(SPARQ_ELEMENT_TYPE_FLOAT32, {rows, 4}, x);
    TensorPtr tk = makeTensor<int64_t>(SPARQ_ELEMENT_TYPE_INT64, {}, {-3});
    SPARQ_ASSERT_OK(sparq_session_bind_input_by_name(session.get(), "in put", tx.get()));
    SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 1, tk.get()));
    SPARQ_ASSERT_OK(sparq_session_run(session.get()));
    std::vector<float> y(x.size());
    std::vector<int64_t> sums(size_t(rows), 0);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        y[size_t(i * 4 + j)] = x[size_t(i * 4 + j)] * -3.0f;
        sums[size_t(i)] += x[size_t(i * 4 + j)] > 0;
      }
    const sparq_tensor_t *ty = output(session, 0);
    const sparq_tensor_t *ts = output(session, 1);
    ASSERT_TRUE(ty && ts);
    EXPECT_EQ(dimsOf(ty), (std::vector<int64_t>{rows, 4}));
    EXPECT_EQ(valuesOf<float>(ty), y);
    EXPECT_EQ(dimsOf(ts), (std::vector<int64_t>{rows}));
    EXPECT_EQ(valuesOf<int64_t>(ts), sums);
    EXPECT_STREQ(sparq_tensor_name(ts), "row sums");
  }
  TensorPtr bad = makeTensor<float>(SPARQ_ELEMENT_TYPE_FLOAT32, {3, 5}, {});
  StatusInfo info = take(sparq_session_bind_input(session.get(), 0, bad.get()));
  EXPECT_EQ(info.message, "input 'in put' (#0): expected shape ?x4, got 3x5");
  TensorPtr notScalar = makeTensor<int64_t>(SPARQ_ELEMENT_TYPE_INT64, {1}, {});
  info = take(sparq_session_bind_input(session.get(), 1, notScalar.get()));
  EXPECT_EQ(info.message, "input 'k' (#1): expected shape scalar (rank 0), got 1 (rank 1)");
}

TEST(Model, StridedOffsetAndScalarOutputsAreCopiedRowMajor) {
  ModelPtr model = load(SPARQ_RT_FAKE_STRIDED);
  ASSERT_TRUE(model);
  SessionPtr session = newSession(model);
  std::vector<int32_t> m = {1, 2, 3, 40, 50, 60};
  TensorPtr tm = makeTensor(SPARQ_ELEMENT_TYPE_INT32, {2, 3}, m);
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, tm.get()));
  for (int repeat = 0; repeat < 2; ++repeat) {
    SPARQ_ASSERT_OK(sparq_session_run(session.get()));
    std::vector<int32_t> transposed(6);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 2; ++j)
        transposed[size_t(i * 2 + j)] = m[size_t(j * 3 + i)];
    const sparq_tensor_t *t = output(session, 0);
    ASSERT_TRUE(t);
    EXPECT_EQ(dimsOf(t), (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(valuesOf<int32_t>(t), transposed);
    const sparq_tensor_t *rev = output(session, 1);
    ASSERT_TRUE(rev);
    EXPECT_EQ(valuesOf<int32_t>(rev), (std::vector<int32_t>{60, 50, 40}));
    int64_t total = 0;
    for (int32_t v : m)
      total += v;
    const sparq_tensor_t *scalar = output(session, 2);
    ASSERT_TRUE(scalar);
    EXPECT_EQ(sparq_tensor_rank(scalar), 0);
    EXPECT_EQ(valuesOf<int64_t>(scalar), (std::vector<int64_t>{total}));
  }

  // Taking an output transfers ownership; it survives the next run and the session.
  sparq_tensor_t *taken = nullptr;
  SPARQ_ASSERT_OK(sparq_session_take_output(session.get(), 1, &taken));
  TensorPtr owned(taken);
  StatusInfo again = take(sparq_session_take_output(session.get(), 1, &taken));
  EXPECT_EQ(again.message,
            "sparq_session_take_output: output 'rev' (#1) was already taken with "
            "sparq_session_take_output");
  const sparq_tensor_t *view = nullptr;
  StatusInfo borrowed = take(sparq_session_output(session.get(), 1, &view));
  EXPECT_FALSE(borrowed.ok);
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  session.reset();
  model.reset();
  EXPECT_EQ(valuesOf<int32_t>(owned.get()), (std::vector<int32_t>{60, 50, 40}));
}

TEST(Model, StringInputsAndOutputsAreCopiedOutOfTheArena) {
  ModelPtr model = load(SPARQ_RT_FAKE_STR);
  ASSERT_TRUE(model);
  sparq_tensor_info_t info;
  SPARQ_ASSERT_OK(sparq_model_input_info(model.get(), 0, &info));
  EXPECT_EQ(info.element_type, SPARQ_ELEMENT_TYPE_STRING);
  SPARQ_ASSERT_OK(sparq_model_output_info(model.get(), 1, &info));
  EXPECT_EQ(info.element_type, SPARQ_ELEMENT_TYPE_STRING);
  void *handle = dlopen(SPARQ_RT_FAKE_STR, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_TRUE(handle);
  auto released = reinterpret_cast<int (*)()>(dlsym(handle, "fake_str_released"));
  auto arena = reinterpret_cast<const char *(*)()>(dlsym(handle, "fake_str_arena"));
  auto stringsReleased =
      reinterpret_cast<int (*)()>(dlsym(handle, "fake_str_strings_released"));
  ASSERT_TRUE(released && arena && stringsReleased);
  dlclose(handle);

  SessionPtr session = newSession(model);
  TensorPtr floats = makeTensor(SPARQ_ELEMENT_TYPE_FLOAT32, {2, 2}, std::vector<float>(4));
  StatusInfo mismatch = take(sparq_session_bind_input(session.get(), 0, floats.get()));
  EXPECT_EQ(mismatch.message, "input 'words' (#0): expected element type string, got float32");

  // "\xc3\xa9" is UTF-8 for e-acute: its bytes pass through unchanged.
  std::vector<const char *> first = {"monday", "Tue 2", "", "caf\xc3\xa9"};
  TensorPtr words = makeStringTensor({2, 2}, first);
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, words.get()));
  int before = released(), stringsBefore = stringsReleased();
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  // Both pointer blocks were given back right after the call: neither was adopted. The run's
  // strings were released (the arena poisoned) once copied.
  EXPECT_EQ(released(), before + 2);
  EXPECT_EQ(stringsReleased(), stringsBefore + 1);
  const std::vector<std::string> upper = {"MONDAY", "TUE 2", "", "CAF\xc3\xa9"};
  const sparq_tensor_t *u = output(session, 0);
  ASSERT_TRUE(u);
  EXPECT_EQ(dimsOf(u), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(sparq_tensor_byte_size(u), 4 * sizeof(char *));
  EXPECT_EQ(stringsOf(u), upper);
  const sparq_tensor_t *t = output(session, 1);
  ASSERT_TRUE(t);
  EXPECT_EQ(stringsOf(t), (std::vector<std::string>{"MONDAY", "", "TUE 2", "CAF\xc3\xa9"}));
  // The elements point into the tensor's own storage, not into the artifact's arena.
  const char *arenaStart = arena(), *arenaEnd = arenaStart + 4096;
  for (const sparq_tensor_t *tensor : {u, t}) {
    const char *const *elements = static_cast<const char *const *>(sparq_tensor_data(tensor));
    for (int i = 0; i < 4; ++i)
      EXPECT_FALSE(elements[i] >= arenaStart && elements[i] < arenaEnd) << i;
  }

  // A taken output keeps its strings through the next run (which overwrites the arena) and
  // the unloading of the artifact.
  sparq_tensor_t *taken = nullptr;
  SPARQ_ASSERT_OK(sparq_session_take_output(session.get(), 0, &taken));
  TensorPtr owned(taken);
  std::vector<const char *> second = {"a", "b", "c", "d"};
  TensorPtr others = makeStringTensor({2, 2}, second);
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, others.get()));
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  EXPECT_EQ(stringsOf(output(session, 1)), (std::vector<std::string>{"A", "C", "B", "D"}));

  // A wrapped array's NULL elements reach the model as "" (it reads every element).
  const char *withNull[4] = {"x", nullptr, "y", nullptr};
  int64_t dims[2] = {2, 2};
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_STRING, 2, dims, withNull,
                                    sizeof(withNull), &raw));
  TensorPtr wrapped(raw);
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, wrapped.get()));
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  EXPECT_EQ(stringsOf(output(session, 0)), (std::vector<std::string>{"X", "", "Y", ""}));
  EXPECT_EQ(withNull[1], nullptr); // the caller's array is left as it was

  session.reset();
  model.reset();
  EXPECT_EQ(stringsOf(owned.get()), upper);
}

TEST(Model, SessionKeepsTheModelAlive) {
  sparq_model_t *model = nullptr;
  SPARQ_ASSERT_OK(sparq_model_load(SPARQ_RT_FAKE_STRIDED, &model));
  sparq_session_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_session_create(model, &raw));
  SessionPtr session(raw);
  sparq_model_destroy(model);
  TensorPtr tm = makeTensor<int32_t>(SPARQ_ELEMENT_TYPE_INT32, {2, 3}, {1, 2, 3, 4, 5, 6});
  SPARQ_ASSERT_OK(sparq_session_bind_input(session.get(), 0, tm.get()));
  SPARQ_ASSERT_OK(sparq_session_run(session.get()));
  EXPECT_EQ(valuesOf<int64_t>(output(session, 2)), (std::vector<int64_t>{21}));
}

TEST(Model, ConcurrentSessionsOnOneModel) {
  ModelPtr model = load(SPARQ_RT_FAKE_ADD);
  ASSERT_TRUE(model);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      sparq_session_t *session = nullptr;
      if (sparq_status_t status = sparq_session_create(model.get(), &session)) {
        sparq_status_free(status);
        ++failures;
        return;
      }
      float a[6], b[6];
      int64_t dims[2] = {2, 3};
      for (int iteration = 0; iteration < 200; ++iteration) {
        for (int i = 0; i < 6; ++i) {
          a[i] = float(t * 1000 + iteration);
          b[i] = float(i);
        }
        sparq_tensor_t *ta = nullptr, *tb = nullptr;
        sparq_status_free(sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, a, sizeof(a), &ta));
        sparq_status_free(sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, b, sizeof(b), &tb));
        const sparq_tensor_t *inputs[2] = {ta, tb};
        const sparq_tensor_t *sum = nullptr;
        sparq_status_t status = sparq_session_bind_inputs(session, 2, inputs);
        if (!status)
          status = sparq_session_run(session);
        if (!status)
          status = sparq_session_output(session, 0, &sum);
        if (status) {
          sparq_status_free(status);
          ++failures;
        } else {
          const float *values = static_cast<const float *>(sparq_tensor_data(sum));
          for (int i = 0; i < 6; ++i)
            if (values[i] != a[i] + b[i])
              ++failures;
        }
        sparq_tensor_destroy(ta);
        sparq_tensor_destroy(tb);
      }
      sparq_session_destroy(session);
    });
  }
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ModelLoad, Errors) {
  sparq_model_t *model = nullptr;
  StatusInfo info = take(sparq_model_load("/nonexistent/m.so", &model));
  EXPECT_EQ(info.code, SPARQ_STATUS_NOT_FOUND);
  EXPECT_EQ(info.message.rfind("cannot load artifact '/nonexistent/m.so': ", 0), 0u)
      << info.message;
  EXPECT_NE(info.message.find("No such file"), std::string::npos) << info.message;

  TempDir dir;
  std::string text = dir.file("not-elf.so");
  writeBytes(text, {'h', 'e', 'l', 'l', 'o', '\n'});
  info = take(sparq_model_load(text.c_str(), &model));
  EXPECT_EQ(info.message, "cannot load artifact '" + text + "': not an ELF file (bad magic at "
                                                          "byte 0)");
  // More hostile files: ArtifactLoadTest.cpp.

  info = take(sparq_model_load(SPARQ_RT_FAKE_BADSIG, &model));
  EXPECT_EQ(info.code, SPARQ_STATUS_DATA_LOSS);
  EXPECT_EQ(info.message, std::string("artifact '") + SPARQ_RT_FAKE_BADSIG +
                              "': malformed signature at line 3 ('x float32 2 4'): rank 2 needs "
                              "2 dimensions, got 1");

  info = take(sparq_model_load(SPARQ_RT_FAKE_NOINVOKE, &model));
  EXPECT_EQ(info.code, SPARQ_STATUS_NOT_FOUND);
  EXPECT_EQ(info.message.rfind(std::string("artifact '") + SPARQ_RT_FAKE_NOINVOKE +
                                   "' does not export sparq_model_invoke_v2",
                               0),
            0u)
      << info.message;
  EXPECT_EQ(model, nullptr);

  // An artifact of the version 1 ABI (invoke without a status return) is refused by name.
  info = take(sparq_model_load(SPARQ_RT_FAKE_V1INVOKE, &model));
  EXPECT_EQ(info.code, SPARQ_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(info.message, std::string("artifact '") + SPARQ_RT_FAKE_V1INVOKE +
                              "' uses version 1 of the artifact ABI (sparq_model_invoke_v1, "
                              "without a status return); this runtime needs version 2: compile "
                              "the model again with this release's sparq-compile");
  EXPECT_EQ(model, nullptr);
}

} // namespace
