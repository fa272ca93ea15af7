//===- tools/sparq-run/test/make-fixtures.cpp - data for the sparq-run tests ---===//
//
//   sparq-run-make-fixtures DIR
//
// Writes the input and expected-output tensors the sparq-run tests use with the fake
// artifacts of runtime/tests. Expected outputs are computed here with plain loops.
//
//===----------------------------------------------------------------------===//
#include "sparq/Runtime/sparq_runtime.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

std::string root;

void check(sparq_status_t status) {
  if (!status)
    return;
  std::fprintf(stderr, "sparq-run-make-fixtures: error: %s\n", sparq_status_message(status));
  std::exit(1);
}

template <typename T>
void write(const std::string &relative, sparq_element_type_t type, std::vector<int64_t> dims,
           const std::vector<T> &values, const char *name = nullptr) {
  std::filesystem::path path = std::filesystem::path(root) / relative;
  std::filesystem::create_directories(path.parent_path());
  sparq_tensor_t *tensor = nullptr;
  check(sparq_tensor_create(type, int64_t(dims.size()), dims.data(), values.data(), &tensor));
  if (name)
    check(sparq_tensor_set_name(tensor, name));
  if (path.extension() == ".npy")
    check(sparq_tensor_write_npy(tensor, path.c_str()));
  else
    check(sparq_tensor_write_pb(tensor, path.c_str()));
  sparq_tensor_destroy(tensor);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sparq-run-make-fixtures DIR\n");
    return 2;
  }
  root = argv[1];
  const sparq_element_type_t f32 = SPARQ_ELEMENT_TYPE_FLOAT32;

  // fake_add: sum = a + b over float32 [2,3].
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {0.5f, -1, 10, 0, 2.25f, -6}, sum(6);
  for (size_t i = 0; i < 6; ++i)
    sum[i] = a[i] + b[i];
  write("add/input_0.pb", f32, {2, 3}, a, "a");
  write("add/input_1.pb", f32, {2, 3}, b, "b");
  write("add/a.npy", f32, {2, 3}, a);
  write("add/expect_ok/output_0.pb", f32, {2, 3}, sum, "sum");
  std::vector<float> bad = sum;
  bad[4] += 0.5f;
  write("add/expect_bad/output_0.pb", f32, {2, 3}, bad, "sum");
  std::vector<float> close = sum;
  close[1] += 0.01f;
  write("add/expect_close/output_0.pb", f32, {2, 3}, close, "sum");
  write("add/expect_shape/output_0.pb", f32, {3, 2}, sum, "sum");
  write("wide/x34.pb", f32, {3, 4}, std::vector<float>(12, 1.0f));

  // A truncated first input, a valid second one.
  write("bad/input_1.pb", f32, {2, 3}, b);
  {
    std::FILE *file = std::fopen((root + "/bad/input_0.pb").c_str(), "wb");
    const unsigned char bytes[] = {0x08, 0x02, 0x08, 0x03, 0x10, 0x01, 0x4a, 0x18, 0, 0};
    std::fwrite(bytes, 1, sizeof(bytes), file);
    std::fclose(file);
  }
  write("missing/input_0.pb", f32, {2, 3}, a);

  // fake_dyn: y = x * k, row sums = count of x > 0 per row; x is [5,4], k = 2.
  std::vector<float> x(20), y(20);
  std::vector<int64_t> rowSums(5, 0);
  for (size_t i = 0; i < 20; ++i) {
    x[i] = float(int(i % 7) - 3) * 0.25f;
    y[i] = x[i] * 2.0f;
    rowSums[i / 4] += x[i] > 0;
  }
  write("dyn/input_0.pb", f32, {5, 4}, x);
  write("dyn/input_1.pb", SPARQ_ELEMENT_TYPE_INT64, {}, std::vector<int64_t>{2});
  write("dyn/expect/output_0.pb", f32, {5, 4}, y, "y");
  write("dyn/expect/output_1.pb", SPARQ_ELEMENT_TYPE_INT64, {5}, rowSums, "row sums");

  // fake_str: upper = the words upper-cased (ASCII letters only), t = its transpose; words is
  // [2,2]. "\xc3\xa9" is UTF-8 for e-acute.
  const sparq_element_type_t str = SPARQ_ELEMENT_TYPE_STRING;
  std::vector<const char *> words = {"monday", "say \"hi\"", "", "caf\xc3\xa9\tbar"};
  std::vector<const char *> upper = {"MONDAY", "SAY \"HI\"", "", "CAF\xc3\xa9\tBAR"};
  std::vector<const char *> transposed = {upper[0], upper[2], upper[1], upper[3]};
  write("str/input_0.pb", str, {2, 2}, words, "words");
  write("str/expect/output_0.pb", str, {2, 2}, upper, "upper");
  write("str/expect/output_1.pb", str, {2, 2}, transposed, "t");
  write("str/expect_bad/output_0.pb", str, {2, 2}, upper, "upper");
  transposed[2] = "SAY HI";
  write("str/expect_bad/output_1.pb", str, {2, 2}, transposed, "t");
  return 0;
}
