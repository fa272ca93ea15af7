//===- runtime/src/Npy.cpp - NumPy .npy files ---------------------*- C++ -*-===//
//
// Reads and writes the .npy format (versions 1.0, 2.0 and 3.0): a magic string, a version,
// a header length and a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': ...}
// padded to 64 bytes, then the raw little-endian data in C order.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cstring>
#include <new>

using namespace sparq::runtime;

namespace {

const char npyMagic[] = "\x93NUMPY";
const size_t npyMagicSize = 6;

struct NpyDescr {
  const char *code; ///< descr without the byte-order character
  sparq_element_type_t type;
};

const NpyDescr npyDescrs[] = {
    {"f2", SPARQ_ELEMENT_TYPE_FLOAT16}, {"f4", SPARQ_ELEMENT_TYPE_FLOAT32},
    {"f8", SPARQ_ELEMENT_TYPE_FLOAT64}, {"i1", SPARQ_ELEMENT_TYPE_INT8},
    {"i2", SPARQ_ELEMENT_TYPE_INT16},   {"i4", SPARQ_ELEMENT_TYPE_INT32},
    {"i8", SPARQ_ELEMENT_TYPE_INT64},   {"u1", SPARQ_ELEMENT_TYPE_UINT8},
    {"u2", SPARQ_ELEMENT_TYPE_UINT16},  {"u4", SPARQ_ELEMENT_TYPE_UINT32},
    {"u8", SPARQ_ELEMENT_TYPE_UINT64},  {"b1", SPARQ_ELEMENT_TYPE_BOOL},
};

/// Parser for the header's Python dict literal.
class HeaderParser {
public:
  HeaderParser(const std::string &text, size_t baseOffset, const std::string &source)
      : text(text), base(baseOffset), source(source) {}

  sparq_status_t parse(std::string &descr, bool &fortranOrder, std::vector<int64_t> &shape) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return error("expected '{'");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      size_t keyPos = pos;
      std::string key;
      if (sparq_status_t status = parseString(key))
        return status;
      skipSpace();
      if (!consume(':'))
        return error("expected ':' after key '" + key + "'");
      skipSpace();
      if (key == "descr") {
        if (sparq_status_t status = parseString(descr))
          return status;
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (text.compare(pos, 4, "True") == 0) {
          fortranOrder = true;
          pos += 4;
        } else if (text.compare(pos, 5, "False") == 0) {
          fortranOrder = false;
          pos += 5;
        } else {
          return error("fortran_order must be True or False");
        }
        haveOrder = true;
      } else if (key == "shape") {
        if (sparq_status_t status = parseShape(shape))
          return status;
        haveShape = true;
      } else {
        pos = keyPos;
        return error("unexpected key '" + key + "'");
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return error("expected ',' or '}'");
    }
    skipSpace();
    if (pos != text.size())
      return error("unexpected text after the header dict");
    if (!haveDescr || !haveOrder || !haveShape)
      return error(std::string("the header lacks '") +
                   (!haveDescr ? "descr" : !haveOrder ? "fortran_order" : "shape") + "'");
    return nullptr;
  }

private:
  sparq_status_t error(const std::string &what) {
    return makeStatus(SPARQ_STATUS_DATA_LOSS, source + ": corrupt .npy header at byte " +
                                                  std::to_string(base + pos) + ": " + what);
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t' ||
                                 text[pos] == '\r'))
      ++pos;
  }

  bool consume(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  sparq_status_t parseString(std::string &out) {
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return error("expected a quoted string");
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return error("unterminated string");
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return nullptr;
  }

  sparq_status_t parseShape(std::vector<int64_t> &shape) {
    if (!consume('('))
      return error("shape must be a tuple");
    shape.clear();
    while (true) {
      skipSpace();
      if (consume(')'))
        return nullptr;
      size_t start = pos;
      int64_t value = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        int64_t digit = text[pos] - '0';
        // Checked before the multiplication, so no value can wrap around (2^64 + 3 is not 3).
        if (value > (INT64_MAX - digit) / 10) {
          size_t end = pos;
          while (end < text.size() && text[end] >= '0' && text[end] <= '9')
            ++end;
          pos = start;
          std::string digits = text.substr(start, end - start);
          if (digits.size() > 40)
            digits = digits.substr(0, 40) + "... (" + std::to_string(end - start) + " digits)";
          return error("dimension " + digits + " does not fit in int64");
        }
        value = value * 10 + digit;
        ++pos;
      }
      if (pos == start)
        return error("expected a non-negative integer dimension");
      consume('L'); // Python 2 long suffix
      shape.push_back(value);
      if (shape.size() > SPARQ_MAX_RANK)
        return error("rank exceeds " + std::to_string(SPARQ_MAX_RANK));
      skipSpace();
      if (consume(','))
        continue;
      if (consume(')'))
        return nullptr;
      return error("expected ',' or ')' in shape");
    }
  }

  const std::string &text;
  size_t base;
  const std::string &source;
  size_t pos = 0;
};

uint32_t readLE(const uint8_t *bytes, size_t count) {
  uint32_t value = 0;
  for (size_t i = 0; i < count; ++i)
    value |= uint32_t(bytes[i]) << (8 * i);
  return value;
}

sparq_status_t decodeNpy(const uint8_t *data, size_t size, const std::string &source,
                         sparq_tensor_t **out_tensor) {
  auto fail = [&](sparq_status_code_t code, const std::string &what) {
    return makeStatus(code, source + ": " + what);
  };
  if (size == 0)
    return fail(SPARQ_STATUS_DATA_LOSS, "empty file, not a .npy file");
  if (size < 8 || std::memcmp(data, npyMagic, npyMagicSize) != 0) {
    if (size < 8 && std::memcmp(data, npyMagic, size < npyMagicSize ? size : npyMagicSize) == 0)
      return fail(SPARQ_STATUS_DATA_LOSS, "truncated .npy file: " + std::to_string(size) +
                                              " bytes, the header alone needs at least 10");
    return fail(SPARQ_STATUS_DATA_LOSS, "not a .npy file (bad magic at byte 0)");
  }
  uint8_t major = data[6], minor = data[7];
  if (major < 1 || major > 3)
    return fail(SPARQ_STATUS_UNIMPLEMENTED, "unsupported .npy format version " +
                                                std::to_string(major) + "." +
                                                std::to_string(minor));
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t prefix = 8 + lengthBytes;
  if (size < prefix)
    return fail(SPARQ_STATUS_DATA_LOSS, "truncated .npy file: header length at byte 8 needs " +
                                            std::to_string(lengthBytes) + " bytes, " +
                                            std::to_string(size - 8) + " left");
  size_t headerLength = readLE(data + 8, lengthBytes);
  if (headerLength > size - prefix)
    return fail(SPARQ_STATUS_DATA_LOSS,
                "truncated .npy file: header length " + std::to_string(headerLength) +
                    " at byte 8 exceeds the " + std::to_string(size - prefix) +
                    " bytes left after byte " + std::to_string(prefix));
  std::string header(reinterpret_cast<const char *>(data + prefix), headerLength);
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  HeaderParser parser(header, prefix, source);
  if (sparq_status_t status = parser.parse(descr, fortranOrder, shape))
    return status;
  if (fortranOrder)
    return fail(SPARQ_STATUS_UNIMPLEMENTED,
                "Fortran-order (column-major) arrays are not supported; save the array in C "
                "order (numpy.ascontiguousarray)");
  // NumPy's strings ('U' UTF-32, 'S'/'a' bytes, fixed width) and objects ('O'): sparq reads
  // string tensors from .pb only.
  if (descr.size() >= 2 && descr[1] != '\0' && std::strchr("USaO", descr[1]))
    return fail(SPARQ_STATUS_UNIMPLEMENTED,
                "unsupported dtype descr '" + descr +
                    "': string and object arrays cannot be read from .npy; store string "
                    "tensors in a .pb file (TensorProto string_data)");
  if (descr.size() != 3)
    return fail(SPARQ_STATUS_UNIMPLEMENTED, "unsupported dtype descr '" + descr + "'");
  char order = descr[0];
  std::string code = descr.substr(1);
  const NpyDescr *found = nullptr;
  for (const NpyDescr &entry : npyDescrs)
    if (code == entry.code)
      found = &entry;
  if (!found)
    return fail(SPARQ_STATUS_UNIMPLEMENTED, "unsupported dtype descr '" + descr + "'");
  size_t elementSize = sparq_element_type_size(found->type);
  if (order == '>' && elementSize > 1)
    return fail(SPARQ_STATUS_UNIMPLEMENTED, "big-endian dtype '" + descr + "' is not supported");
  if (order != '<' && order != '|' && order != '=' && order != '>')
    return fail(SPARQ_STATUS_DATA_LOSS, "bad byte-order character in descr '" + descr + "'");

  size_t dataOffset = prefix + headerLength;
  int64_t count = 0;
  size_t byteSize = 0;
  if (!checkedNumElements(shape.data(), shape.size(), count) ||
      !checkedByteSize(found->type, count, byteSize))
    return fail(SPARQ_STATUS_DATA_LOSS,
                "shape " + formatShape(shape) + " overflows the addressable size");
  size_t available = size - dataOffset;
  if (available < byteSize)
    return fail(SPARQ_STATUS_DATA_LOSS,
                "truncated .npy data: shape " + formatShape(shape) + " of " + descr + " needs " +
                    std::to_string(byteSize) + " bytes after byte " +
                    std::to_string(dataOffset) + ", the file has " + std::to_string(available));
  if (available > byteSize)
    return fail(SPARQ_STATUS_DATA_LOSS,
                std::to_string(available - byteSize) + " unexpected trailing bytes at byte " +
                    std::to_string(dataOffset + byteSize));
  sparq_tensor_t *tensor = nullptr;
  if (sparq_status_t status = createTensor(found->type, shape, &tensor))
    return status;
  if (byteSize)
    std::memcpy(tensor->data, data + dataOffset, byteSize);
  if (found->type == SPARQ_ELEMENT_TYPE_BOOL) {
    const uint8_t *bytes = static_cast<const uint8_t *>(tensor->data);
    for (int64_t i = 0; i < count; ++i) {
      if (bytes[i] > 1) {
        unsigned value = bytes[i];
        sparq_tensor_destroy(tensor);
        return fail(SPARQ_STATUS_DATA_LOSS, "byte " + std::to_string(dataOffset + size_t(i)) +
                                                " holds " + std::to_string(value) +
                                                ", not a bool (0 or 1)");
      }
    }
  }
  *out_tensor = tensor;
  return nullptr;
}

} // namespace

extern "C" {

sparq_status_t sparq_tensor_decode_npy(const void *data, size_t size, const char *source_name,
                                       sparq_tensor_t **out_tensor) {
  if (!out_tensor || (size > 0 && !data))
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string("sparq_tensor_decode_npy: ") +
                          (!out_tensor ? "out_tensor" : "data") + " is NULL");
  try {
    return decodeNpy(static_cast<const uint8_t *>(data), size, describeSource(source_name),
                     out_tensor);
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      describeSource(source_name) + ": out of memory decoding a .npy file");
  }
}

sparq_status_t sparq_tensor_read_npy(const char *path, sparq_tensor_t **out_tensor) {
  return readTensorFile("sparq_tensor_read_npy", path, out_tensor, sparq_tensor_decode_npy);
}

sparq_status_t sparq_tensor_write_npy(const sparq_tensor_t *tensor, const char *path) {
  if (!tensor || !path)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string("sparq_tensor_write_npy: ") + (!tensor ? "tensor" : "path") +
                          " is NULL");
  try {
    if (tensor->type == SPARQ_ELEMENT_TYPE_STRING)
      return makeStatus(SPARQ_STATUS_UNIMPLEMENTED,
                        "file '" + std::string(path) + "': string tensor" +
                            (tensor->name.empty() ? std::string() : " '" + tensor->name + "'") +
                            " cannot be written as .npy (sparq does not write NumPy string "
                            "arrays); write a .pb file instead");
    const char *code = nullptr;
    for (const NpyDescr &entry : npyDescrs)
      if (entry.type == tensor->type)
        code = entry.code;
    if (!code)
      return makeStatus(SPARQ_STATUS_UNIMPLEMENTED,
                        "file '" + std::string(path) + "': " +
                            sparq_element_type_name(tensor->type) +
                            " has no .npy dtype (NumPy has no bfloat16); write a .pb file "
                            "instead");
    std::string dict = std::string("{'descr': '") +
                       (sparq_element_type_size(tensor->type) == 1 ? "|" : "<") + code +
                       "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < tensor->dims.size(); ++i) {
      dict += std::to_string(tensor->dims[i]);
      if (i + 1 < tensor->dims.size() || tensor->dims.size() == 1)
        dict += tensor->dims.size() == 1 ? "," : ", ";
    }
    dict += "), }";
    // Pad with spaces so the data starts at a multiple of 64, and end with '\n'.
    size_t prefix = 10;
    unsigned char major = 1;
    size_t total = prefix + dict.size() + 1;
    if ((total + 63) / 64 * 64 - prefix > 0xffff) {
      prefix = 12;
      major = 2;
      total = prefix + dict.size() + 1;
    }
    size_t padded = (total + 63) / 64 * 64;
    dict.append(padded - total, ' ');
    dict += '\n';
    size_t headerLength = dict.size();
    std::string out(npyMagic, npyMagicSize);
    out += char(major);
    out += char(0);
    for (size_t i = 0; i < prefix - 8; ++i)
      out += char((headerLength >> (8 * i)) & 0xff);
    out += dict;
    if (tensor->byteSize)
      out.append(static_cast<const char *>(tensor->data), tensor->byteSize);
    return writeWholeFile(path, out.data(), out.size());
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      "file '" + std::string(path) + "': out of memory encoding a .npy file");
  }
}

} // extern "C"
