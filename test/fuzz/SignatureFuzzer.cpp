//===- test/fuzz/SignatureFuzzer.cpp - libFuzzer target: the signature parser ===//
//
// Feeds arbitrary bytes, as the NUL-terminated text an artifact's sparq_model_signature_v1
// returns, to parseSignature (runtime/src/Signature.h). A clean "malformed signature" error is
// the expected outcome; a signature that parses must respect the ABI's limits (its equal-dimension
// groups included) and parse again, unchanged, from its canonical text. See docs/fuzzing.md.
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"
#include "Signature.h"

#include <cctype>
#include <set>

using sparq::runtime::Signature;
using sparq::runtime::TensorSpec;

namespace {

const char artifactName[] = "fuzz.so";

/// A name in the signature's escaped alphabet.
void appendName(std::string &text, const std::string &name) {
  SPARQ_FUZZ_CHECK(!name.empty());
  for (unsigned char c : name) {
    SPARQ_FUZZ_CHECK(c != '\0');
    if (std::isalnum(c) || std::strchr("_.:/-", c)) {
      text += char(c);
    } else {
      char escape[4];
      std::snprintf(escape, sizeof(escape), "%%%02X", c);
      text += escape;
    }
  }
}

/// The canonical signature text of `specs` under `keyword` (docs/artifact-abi.md).
void appendSection(std::string &text, const char *keyword, const std::vector<TensorSpec> &specs) {
  text += std::string(keyword) + " " + std::to_string(specs.size()) + "\n";
  std::set<std::string> names;
  for (const TensorSpec &spec : specs) {
    SPARQ_FUZZ_CHECK(!spec.name.empty() && names.insert(spec.name).second);
    SPARQ_FUZZ_CHECK(spec.dims.size() <= SPARQ_MAX_RANK);
    SPARQ_FUZZ_CHECK(sparq_element_type_size(spec.type) > 0);
    appendName(text, spec.name);
    text += std::string(" ") + sparq_element_type_name(spec.type) + " " +
            std::to_string(spec.dims.size());
    for (int64_t dim : spec.dims) {
      SPARQ_FUZZ_CHECK(dim >= -1);
      text += " " + std::to_string(dim);
    }
    text += "\n";
  }
}

/// The `equal` lines: every group has two or more members, each a dynamic dimension of an input.
void appendEqualDims(std::string &text, const Signature &signature) {
  for (const sparq::runtime::EqualDims &group : signature.equalDims) {
    SPARQ_FUZZ_CHECK(group.members.size() >= 2);
    text += "equal ";
    appendName(text, group.symbol);
    text += " " + std::to_string(group.members.size());
    for (auto [input, dim] : group.members) {
      SPARQ_FUZZ_CHECK(input < signature.inputs.size());
      SPARQ_FUZZ_CHECK(dim < signature.inputs[input].dims.size() && signature.inputs[input].dims[dim] == -1);
      text += " " + std::to_string(input) + " " + std::to_string(dim);
    }
    text += "\n";
  }
}

bool sameSpecs(const std::vector<TensorSpec> &a, const std::vector<TensorSpec> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].type != b[i].type || a[i].dims != b[i].dims)
      return false;
  return true;
}

/// Parses `text`; false (after checking the error names the artifact) when it is malformed.
bool parse(const std::string &text, Signature &out) {
  return sparq::fuzz::checkStatus(sparq::runtime::parseSignature(text.c_str(), artifactName, out),
                                  std::string("artifact '") + artifactName + "': ");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The ABI hands over a C string: the parser sees the bytes up to the first NUL.
  std::string text(reinterpret_cast<const char *>(data), size);
  Signature signature;
  if (!parse(text, signature))
    return 0;
  std::string canonical = "sparq-signature 1\n";
  appendSection(canonical, "inputs", signature.inputs);
  appendSection(canonical, "outputs", signature.outputs);
  appendEqualDims(canonical, signature);
  Signature again;
  SPARQ_FUZZ_CHECK(parse(canonical, again));
  SPARQ_FUZZ_CHECK(sameSpecs(signature.inputs, again.inputs));
  SPARQ_FUZZ_CHECK(sameSpecs(signature.outputs, again.outputs));
  SPARQ_FUZZ_CHECK(signature.equalDims.size() == again.equalDims.size());
  for (size_t i = 0; i < signature.equalDims.size(); ++i)
    SPARQ_FUZZ_CHECK(signature.equalDims[i].symbol == again.equalDims[i].symbol &&
                     signature.equalDims[i].members == again.equalDims[i].members);
  return 0;
}
