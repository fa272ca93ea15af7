//===- runtime/src/Signature.cpp - artifact signature parser -----*- C++ -*-===//
//
// Strict parser for the `sparq-signature 1` text block of docs/artifact-abi.md.
//
//===----------------------------------------------------------------------===//
#include "Signature.h"
#include "Internal.h"

#include <cstring>
#include <limits>
#include <set>

namespace sparq {
namespace runtime {

namespace {

bool isNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

int upperHexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Strict decimal integer: optional '-', then one or more digits, no overflow.
bool parseInt64(const std::string &text, int64_t &out) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  if (i == text.size())
    return false;
  uint64_t value = 0;
  const uint64_t limit = negative ? uint64_t(std::numeric_limits<int64_t>::max()) + 1
                                  : uint64_t(std::numeric_limits<int64_t>::max());
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9')
      return false;
    uint64_t digit = uint64_t(c - '0');
    if (value > (limit - digit) / 10)
      return false;
    value = value * 10 + digit;
  }
  out = negative ? int64_t(0 - value) : int64_t(value);
  return true;
}

/// Splits on single spaces; false if a field is empty (double, leading or trailing space).
bool splitFields(const std::string &line, std::vector<std::string> &fields) {
  fields.clear();
  size_t start = 0;
  while (true) {
    size_t end = line.find(' ', start);
    std::string field = line.substr(start, end == std::string::npos ? end : end - start);
    if (field.empty())
      return false;
    fields.push_back(std::move(field));
    if (end == std::string::npos)
      return true;
    start = end + 1;
  }
}

class Parser {
public:
  Parser(const char *text, const std::string &artifact) : artifact(artifact) {
    std::string all(text);
    size_t start = 0;
    while (start < all.size()) {
      size_t end = all.find('\n', start);
      if (end == std::string::npos) {
        lines.push_back(all.substr(start));
        break;
      }
      lines.push_back(all.substr(start, end - start));
      start = end + 1;
    }
  }

  sparq_status_t parse(Signature &out) {
    if (lines.empty())
      return error(0, "the signature is empty");
    if (lines[0] != "sparq-signature 1") {
      std::string version =
          lines[0].rfind("sparq-signature ", 0) == 0 ? lines[0].substr(16) : std::string();
      if (!version.empty() && version.find_first_not_of("0123456789") == std::string::npos)
        return error(1, "unsupported signature version '" + lines[0].substr(16) +
                            "' (this runtime reads version 1)");
      return error(1, "expected 'sparq-signature 1'");
    }
    size_t next = 1;
    Signature signature;
    if (sparq_status_t status = parseSection("inputs", next, signature.inputs))
      return status;
    if (sparq_status_t status = parseSection("outputs", next, signature.outputs))
      return status;
    for (; next < lines.size() && lines[next].rfind("equal ", 0) == 0; ++next) {
      EqualDims group;
      if (sparq_status_t status = parseEqualLine(next, signature.inputs, group))
        return status;
      signature.equalDims.push_back(std::move(group));
    }
    if (next < lines.size())
      return error(next + 1, "unexpected text after the last output");
    out = std::move(signature);
    return nullptr;
  }

private:
  sparq_status_t error(size_t lineNumber, const std::string &what) {
    std::string message = "artifact '" + artifact + "': malformed signature";
    if (lineNumber > 0 && lineNumber <= lines.size())
      message += " at line " + std::to_string(lineNumber) + " ('" + lines[lineNumber - 1] + "')";
    else if (lineNumber > 0)
      message += " at line " + std::to_string(lineNumber) + " (end of text)";
    return makeStatus(SPARQ_STATUS_DATA_LOSS, message + ": " + what);
  }

  sparq_status_t parseSection(const char *keyword, size_t &next,
                              std::vector<TensorSpec> &specs) {
    if (next >= lines.size())
      return error(next + 1, std::string("expected '") + keyword + " N'");
    std::vector<std::string> fields;
    int64_t count = 0;
    if (!splitFields(lines[next], fields) || fields.size() != 2 || fields[0] != keyword ||
        !parseInt64(fields[1], count) || count < 0)
      return error(next + 1, std::string("expected '") + keyword +
                                 " N' with N a non-negative integer");
    size_t header = next++;
    std::set<std::string> seen;
    for (int64_t i = 0; i < count; ++i, ++next) {
      if (next >= lines.size())
        return error(header + 1, std::string("declares ") + std::to_string(count) + " " +
                                     keyword + " but the signature ends after " +
                                     std::to_string(i));
      TensorSpec spec;
      if (sparq_status_t status = parseTensorLine(next, spec))
        return status;
      if (!seen.insert(spec.name).second)
        return error(next + 1, std::string("duplicate ") + (keyword[0] == 'i' ? "input" : "output") +
                                   " name '" + spec.name + "'");
      specs.push_back(std::move(spec));
    }
    return nullptr;
  }

  /// `equal SYMBOL COUNT I0 D0 ... I(COUNT-1) D(COUNT-1)`: dynamic dimension Dk of input Ik,
  /// COUNT >= 2 of them, are the one symbolic dimension SYMBOL.
  sparq_status_t parseEqualLine(size_t index, const std::vector<TensorSpec> &inputs, EqualDims &group) {
    const char *help = "expected 'equal SYMBOL COUNT INPUT DIM ...' with COUNT >= 2 pairs";
    std::vector<std::string> fields;
    int64_t count = 0;
    // COUNT is compared with the number of fields before it is multiplied (it may be huge).
    if (!splitFields(lines[index], fields) || fields.size() < 3 || !parseInt64(fields[2], count) ||
        count < 2 || uint64_t(count) != (fields.size() - 3) / 2 || (fields.size() - 3) % 2 != 0)
      return error(index + 1, help);
    std::string nameError;
    if (!decodeSignatureName(fields[1], group.symbol, nameError))
      return error(index + 1, nameError);
    for (int64_t k = 0; k < count; ++k) {
      int64_t input = 0, dim = 0;
      if (!parseInt64(fields[size_t(3 + 2 * k)], input) || input < 0 || size_t(input) >= inputs.size())
        return error(index + 1, "input index '" + fields[size_t(3 + 2 * k)] + "' is not one of the " +
                                    std::to_string(inputs.size()) + " inputs");
      const TensorSpec &spec = inputs[size_t(input)];
      if (!parseInt64(fields[size_t(4 + 2 * k)], dim) || dim < 0 || size_t(dim) >= spec.dims.size() ||
          spec.dims[size_t(dim)] != -1)
        return error(index + 1, "dimension '" + fields[size_t(4 + 2 * k)] + "' is not a dynamic dimension of input '" +
                                    spec.name + "'");
      group.members.emplace_back(size_t(input), size_t(dim));
    }
    return nullptr;
  }

  sparq_status_t parseTensorLine(size_t index, TensorSpec &spec) {
    const char *shapeHelp = "expected 'NAME DTYPE RANK D0 ... D(RANK-1)'";
    std::vector<std::string> fields;
    if (!splitFields(lines[index], fields))
      return error(index + 1, std::string(shapeHelp) + " separated by single spaces");
    if (fields.size() < 3)
      return error(index + 1, shapeHelp);
    std::string nameError;
    if (!decodeSignatureName(fields[0], spec.name, nameError))
      return error(index + 1, nameError);
    sparq_status_t typeStatus = sparq_element_type_from_name(fields[1].c_str(), &spec.type);
    if (typeStatus) {
      std::string what = sparq_status_message(typeStatus);
      sparq_status_free(typeStatus);
      return error(index + 1, what);
    }
    int64_t rank = 0;
    if (!parseInt64(fields[2], rank) || rank < 0 || rank > SPARQ_MAX_RANK)
      return error(index + 1, "rank '" + fields[2] + "' is not an integer in [0, " +
                                  std::to_string(SPARQ_MAX_RANK) + "]");
    if (fields.size() != size_t(3 + rank))
      return error(index + 1, "rank " + std::to_string(rank) + " needs " + std::to_string(rank) +
                                  " dimensions, got " + std::to_string(fields.size() - 3));
    for (int64_t d = 0; d < rank; ++d) {
      int64_t dim = 0;
      const std::string &field = fields[size_t(3 + d)];
      if (!parseInt64(field, dim) || dim < -1)
        return error(index + 1, "dimension " + std::to_string(d) + " '" + field +
                                    "' is neither a size >= 0 nor -1 (dynamic)");
      spec.dims.push_back(dim);
    }
    return nullptr;
  }

  const std::string &artifact;
  std::vector<std::string> lines;
};

} // namespace

bool decodeSignatureName(const std::string &escaped, std::string &out, std::string &error) {
  if (escaped.empty()) {
    error = "empty name";
    return false;
  }
  std::string decoded;
  for (size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c == '%') {
      int high = i + 1 < escaped.size() ? upperHexValue(escaped[i + 1]) : -1;
      int low = i + 2 < escaped.size() ? upperHexValue(escaped[i + 2]) : -1;
      if (high < 0 || low < 0) {
        error = "name '" + escaped + "': '%' at offset " + std::to_string(i) +
                " is not followed by two upper-case hex digits";
        return false;
      }
      char byte = char(high * 16 + low);
      if (byte == '\0') {
        error = "name '" + escaped + "': %00 (NUL) is not allowed";
        return false;
      }
      decoded += byte;
      i += 2;
    } else if (isNameChar(c)) {
      decoded += c;
    } else {
      error = "name '" + escaped + "': byte " + std::to_string(unsigned((unsigned char)c)) +
              " at offset " + std::to_string(i) + " must be written as %XX";
      return false;
    }
  }
  out = std::move(decoded);
  return true;
}

sparq_status_t parseSignature(const char *text, const std::string &artifact, Signature &out) {
  if (!text)
    return makeStatus(SPARQ_STATUS_DATA_LOSS,
                      "artifact '" + artifact + "': malformed signature: "
                                                "sparq_model_signature_v1 returned NULL");
  try {
    Parser parser(text, artifact);
    return parser.parse(out);
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      "artifact '" + artifact + "': out of memory parsing the signature");
  }
}

} // namespace runtime
} // namespace sparq
