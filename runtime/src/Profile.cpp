//===- runtime/src/Profile.cpp - the kernel table of a profiled artifact ---------===//
#include "Profile.h"
#include "Internal.h"

#include "sparq/Formats/KernelProfile.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace sparq {
namespace runtime {

namespace {

/// A decimal integer >= -1 filling `text`.
bool parseInteger(const std::string &text, int64_t &out) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || value < -1)
    return false;
  out = value;
  return true;
}

std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(text);
  while (std::getline(stream, part, separator))
    parts.push_back(part);
  if (!text.empty() && text.back() == separator)
    parts.push_back("");
  return parts;
}

} // namespace

sparq_status_t parseProfileTable(const char *text, const std::string &path,
                                 std::vector<KernelInfo> &out) {
  std::vector<std::string> lines = split(text ? text : "", '\n');
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();
  auto error = [&](size_t line, const std::string &what) {
    std::string message = "artifact '" + path + "': malformed profile table";
    if (line < lines.size())
      message += " at line " + std::to_string(line + 1) + " ('" + lines[line] + "')";
    else
      message += " at line " + std::to_string(line + 1) + " (end of text)";
    return makeStatus(SPARQ_STATUS_DATA_LOSS, message + ": " + what);
  };
  if (lines.empty() || lines[0] != profile::kMagic)
    return error(0, std::string("expected '") + profile::kMagic + "'");
  int64_t count = 0;
  if (lines.size() < 2 || lines[1].rfind("kernels ", 0) != 0 ||
      !parseInteger(lines[1].substr(8), count) || count < 0 || count > profile::kMaxKernels)
    return error(1, "expected 'kernels N' with 0 <= N <= " +
                        std::to_string(profile::kMaxKernels));
  if (lines.size() != size_t(count) + 2)
    return error(std::min(lines.size(), size_t(count) + 2),
                 "expected " + std::to_string(count) + " kernel lines, found " +
                     std::to_string(lines.size() - 2));
  std::vector<KernelInfo> kernels;
  for (int64_t i = 0; i < count; ++i) {
    size_t line = size_t(i) + 2;
    std::vector<std::string> fields = split(lines[line], '\t');
    int64_t id = 0;
    KernelInfo info;
    if (fields.size() != 5 || !parseInteger(fields[0], id) || id != i ||
        !parseInteger(fields[1], info.flops) || !parseInteger(fields[2], info.bytes))
      return error(line, "expected 'ID<tab>FLOPS<tab>BYTES<tab>KIND<tab>NAME' with ID " +
                             std::to_string(i));
    info.kind = fields[3];
    info.name = fields[4];
    kernels.push_back(std::move(info));
  }
  out = std::move(kernels);
  return nullptr;
}

} // namespace runtime
} // namespace sparq
