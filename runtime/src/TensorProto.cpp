//===- runtime/src/TensorProto.cpp - onnx.TensorProto without protobuf -*- C++ -*-===//
//
// A small decoder/encoder for the protobuf wire format of onnx.TensorProto, covering the
// fields a dense tensor uses: dims (1, packed or not), data_type (2), float_data (4),
// int32_data (5), string_data (6), int64_data (7), name (8), raw_data (9), double_data (10),
// uint64_data (11). Unknown fields are skipped by wire type; segments and external data are
// reported as unsupported. Errors name the source and the byte offset.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cstring>
#include <limits>
#include <new>
#include <string_view>

using namespace sparq::runtime;

namespace {

enum WireType : uint32_t { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 };

const char *fieldName(uint64_t field) {
  switch (field) {
  case 1: return "dims";
  case 2: return "data_type";
  case 3: return "segment";
  case 4: return "float_data";
  case 5: return "int32_data";
  case 6: return "string_data";
  case 7: return "int64_data";
  case 8: return "name";
  case 9: return "raw_data";
  case 10: return "double_data";
  case 11: return "uint64_data";
  case 12: return "doc_string";
  case 13: return "external_data";
  case 14: return "data_location";
  default: return nullptr;
  }
}

const char *onnxTypeName(int64_t type) {
  static const char *const names[] = {
      "UNDEFINED", "FLOAT",      "UINT8",     "INT8",          "UINT16",        "INT16",
      "INT32",     "INT64",      "STRING",    "BOOL",          "FLOAT16",       "DOUBLE",
      "UINT32",    "UINT64",     "COMPLEX64", "COMPLEX128",    "BFLOAT16",      "FLOAT8E4M3FN",
      "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",         "FLOAT4E2M1"};
  if (type >= 0 && size_t(type) < sizeof(names) / sizeof(names[0]))
    return names[type];
  return "unknown";
}

/// The fields of a TensorProto that sparq reads.
struct Decoded {
  std::vector<int64_t> dims;
  int64_t dataType = 0;
  bool hasDataType = false;
  std::vector<float> floatData;
  std::vector<int32_t> int32Data;
  std::vector<int64_t> int64Data;
  std::vector<double> doubleData;
  std::vector<uint64_t> uint64Data;
  std::string name;
  bool hasRaw = false;
  const uint8_t *raw = nullptr;
  size_t rawSize = 0;
  /// string_data: one view of the input bytes per element.
  std::vector<std::string_view> stringData;
  bool hasSegment = false;
  bool external = false;
};

class Decoder {
public:
  Decoder(const uint8_t *data, size_t size, std::string source)
      : data(data), size(size), source(std::move(source)) {}

  sparq_status_t decode(Decoded &out) {
    while (pos < size) {
      size_t tagPos = pos;
      uint64_t tag;
      if (sparq_status_t status = readVarint(tag, "field tag"))
        return status;
      uint64_t field = tag >> 3;
      uint32_t wire = uint32_t(tag & 7);
      if (field == 0 || field > 0x1fffffff)
        return error(tagPos, "invalid field number " + std::to_string(field));
      if (sparq_status_t status = decodeField(field, wire, tagPos, out))
        return status;
    }
    return nullptr;
  }

private:
  sparq_status_t error(size_t offset, const std::string &what) {
    return makeStatus(SPARQ_STATUS_DATA_LOSS, source + ": corrupt TensorProto at byte " +
                                                  std::to_string(offset) + ": " + what);
  }

  sparq_status_t readVarint(uint64_t &out, const char *what) {
    size_t start = pos;
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
      if (pos >= size)
        return error(start, std::string("truncated varint (") + what + ")");
      uint8_t byte = data[pos++];
      if (shift == 63 && byte > 1)
        return error(start, std::string("varint overflows 64 bits (") + what + ")");
      value |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        out = value;
        return nullptr;
      }
    }
    return error(start, std::string("varint longer than 10 bytes (") + what + ")");
  }

  sparq_status_t readFixed(void *out, size_t bytes, const char *what) {
    if (size - pos < bytes)
      return error(pos, std::string("truncated ") + what + ": needs " + std::to_string(bytes) +
                            " bytes, " + std::to_string(size - pos) + " left");
    std::memcpy(out, data + pos, bytes);
    pos += bytes;
    return nullptr;
  }

  /// Reads a length prefix and checks the payload fits; leaves `pos` at the payload.
  sparq_status_t readLength(uint64_t field, size_t &length) {
    size_t start = pos;
    uint64_t value;
    if (sparq_status_t status = readVarint(value, "length"))
      return status;
    if (value > size - pos)
      return error(start, "field " + std::to_string(field) + describe(field) + " has length " +
                              std::to_string(value) + " but only " +
                              std::to_string(size - pos) + " bytes are left");
    length = size_t(value);
    return nullptr;
  }

  static std::string describe(uint64_t field) {
    const char *name = fieldName(field);
    return name ? std::string(" (") + name + ")" : std::string();
  }

  sparq_status_t wrongWire(uint64_t field, uint32_t wire, size_t tagPos) {
    return error(tagPos, "field " + std::to_string(field) + describe(field) +
                             " has unexpected wire type " + std::to_string(wire));
  }

  /// Reads a repeated varint field, packed (wire 2) or one element (wire 0).
  template <typename T>
  sparq_status_t readVarints(uint64_t field, uint32_t wire, size_t tagPos, std::vector<T> &out) {
    if (wire == Varint) {
      uint64_t value;
      if (sparq_status_t status = readVarint(value, fieldName(field)))
        return status;
      out.push_back(T(value));
      return nullptr;
    }
    if (wire != LengthDelimited)
      return wrongWire(field, wire, tagPos);
    size_t length;
    if (sparq_status_t status = readLength(field, length))
      return status;
    size_t end = pos + length;
    size_t savedSize = size;
    size = end; // varints of a packed run must not cross its end
    while (pos < end) {
      uint64_t value;
      if (sparq_status_t status = readVarint(value, fieldName(field))) {
        size = savedSize;
        return status;
      }
      out.push_back(T(value));
    }
    size = savedSize;
    return nullptr;
  }

  /// Reads a repeated fixed-width field, packed (wire 2) or one element (`elementWire`).
  template <typename T>
  sparq_status_t readFixeds(uint64_t field, uint32_t wire, uint32_t elementWire, size_t tagPos,
                            std::vector<T> &out) {
    if (wire == elementWire) {
      T value;
      if (sparq_status_t status = readFixed(&value, sizeof(T), fieldName(field)))
        return status;
      out.push_back(value);
      return nullptr;
    }
    if (wire != LengthDelimited)
      return wrongWire(field, wire, tagPos);
    size_t start = pos;
    size_t length;
    if (sparq_status_t status = readLength(field, length))
      return status;
    if (length % sizeof(T))
      return error(start, "packed field " + std::to_string(field) + describe(field) +
                              " has length " + std::to_string(length) +
                              ", not a multiple of " + std::to_string(sizeof(T)));
    // An empty packed run adds nothing (and out.data() may be NULL: no memcpy then).
    if (length == 0)
      return nullptr;
    size_t count = length / sizeof(T);
    size_t old = out.size();
    out.resize(old + count);
    std::memcpy(out.data() + old, data + pos, length);
    pos += length;
    return nullptr;
  }

  sparq_status_t skip(uint64_t field, uint32_t wire, size_t tagPos) {
    switch (wire) {
    case Varint: {
      uint64_t ignored;
      return readVarint(ignored, "unknown field");
    }
    case Fixed64:
    case Fixed32: {
      size_t bytes = wire == Fixed64 ? 8 : 4;
      if (size - pos < bytes)
        return error(pos, "truncated field " + std::to_string(field) + describe(field) +
                              ": needs " + std::to_string(bytes) + " bytes, " +
                              std::to_string(size - pos) + " left");
      pos += bytes;
      return nullptr;
    }
    case LengthDelimited: {
      size_t length;
      if (sparq_status_t status = readLength(field, length))
        return status;
      pos += length;
      return nullptr;
    }
    case 3:
    case 4:
      return error(tagPos, "field " + std::to_string(field) +
                               " uses the deprecated group wire type, which TensorProto never "
                               "contains");
    default:
      return error(tagPos, "field " + std::to_string(field) + " has invalid wire type " +
                               std::to_string(wire));
    }
  }

  sparq_status_t decodeField(uint64_t field, uint32_t wire, size_t tagPos, Decoded &out) {
    switch (field) {
    case 1:
      return readVarints(field, wire, tagPos, out.dims);
    case 2: {
      if (wire != Varint)
        return wrongWire(field, wire, tagPos);
      size_t valuePos = pos;
      uint64_t value;
      if (sparq_status_t status = readVarint(value, "data_type"))
        return status;
      // An int32 enum is encoded sign-extended to 64 bits; anything else is not an int32.
      int64_t signedValue = int64_t(value);
      if (signedValue < INT32_MIN || signedValue > INT32_MAX)
        return error(valuePos, "data_type " + std::to_string(value) + " does not fit in int32");
      out.dataType = signedValue;
      out.hasDataType = true;
      return nullptr;
    }
    case 3:
      out.hasSegment = true;
      return skip(field, wire, tagPos);
    case 4:
      return readFixeds(field, wire, Fixed32, tagPos, out.floatData);
    case 5: {
      // int32 fields carry the low 32 bits of a (sign-extended) varint.
      std::vector<uint64_t> values;
      if (sparq_status_t status = readVarints(field, wire, tagPos, values))
        return status;
      for (uint64_t value : values)
        out.int32Data.push_back(int32_t(uint32_t(value)));
      return nullptr;
    }
    case 7:
      return readVarints(field, wire, tagPos, out.int64Data);
    case 6:
    case 8:
    case 9: {
      if (wire != LengthDelimited)
        return wrongWire(field, wire, tagPos);
      size_t length;
      if (sparq_status_t status = readLength(field, length))
        return status;
      const char *bytes = reinterpret_cast<const char *>(data + pos);
      if (field == 6) {
        // repeated bytes string_data: one element per occurrence (never packed).
        out.stringData.emplace_back(bytes, length);
      } else if (field == 8) {
        out.name.assign(bytes, length);
      } else {
        out.hasRaw = true;
        out.raw = data + pos;
        out.rawSize = length;
      }
      pos += length;
      return nullptr;
    }
    case 10:
      return readFixeds(field, wire, Fixed64, tagPos, out.doubleData);
    case 11:
      return readVarints(field, wire, tagPos, out.uint64Data);
    case 14: {
      if (wire != Varint)
        return wrongWire(field, wire, tagPos);
      uint64_t value;
      if (sparq_status_t status = readVarint(value, "data_location"))
        return status;
      out.external = value == 1;
      return nullptr;
    }
    default:
      return skip(field, wire, tagPos);
    }
  }

  const uint8_t *data;
  size_t size;
  size_t pos = 0;
  std::string source;
};

/// Stores the int32_data values into a tensor of a narrower type, checking each fits.
template <typename T>
sparq_status_t narrowInt32(const std::vector<int32_t> &values, int64_t low, int64_t high,
                           void *out, const std::string &source, const char *typeName) {
  T *dst = static_cast<T *>(out);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < low || values[i] > high)
      return makeStatus(SPARQ_STATUS_DATA_LOSS,
                        source + ": int32_data[" + std::to_string(i) + "] = " +
                            std::to_string(values[i]) + " is out of range for " + typeName);
    dst[i] = T(values[i]);
  }
  return nullptr;
}

/// A string tensor from string_data, whose count buildTensor has checked. sparq's strings are
/// C strings: one holding a NUL byte cannot be represented.
sparq_status_t buildStringTensor(const Decoded &decoded, int64_t count, const std::string &source,
                                 sparq_tensor_t **out_tensor) {
  for (int64_t i = 0; i < count; ++i) {
    size_t nul = decoded.stringData[size_t(i)].find('\0');
    if (nul != std::string_view::npos)
      return makeStatus(SPARQ_STATUS_UNIMPLEMENTED,
                        source + ": string tensor '" + decoded.name + "': string_data[" +
                            std::to_string(i) + "] holds a NUL byte at offset " +
                            std::to_string(nul) +
                            "; sparq's strings are NUL-terminated and cannot contain one");
  }
  sparq_tensor_t *tensor = nullptr;
  if (sparq_status_t status = createStringTensor(decoded.dims, decoded.stringData.data(), &tensor))
    return status;
  tensor->name = decoded.name;
  *out_tensor = tensor;
  return nullptr;
}

sparq_status_t buildTensor(const Decoded &decoded, const std::string &source,
                           sparq_tensor_t **out_tensor) {
  auto fail = [&](sparq_status_code_t code, const std::string &what) {
    return makeStatus(code, source + ": " + what);
  };
  if (!decoded.hasDataType || decoded.dataType == 0)
    return fail(SPARQ_STATUS_DATA_LOSS, "TensorProto has no data_type");
  if (decoded.dataType < 0)
    return fail(SPARQ_STATUS_DATA_LOSS, "data_type " + std::to_string(decoded.dataType) +
                                            " is negative, not a TensorProto.DataType");
  // Checked as an integer: converting an arbitrary value to the enum first is undefined.
  sparq_element_type_t type = SPARQ_ELEMENT_TYPE_UNDEFINED;
  if (!toElementType(decoded.dataType, type))
    return fail(SPARQ_STATUS_UNIMPLEMENTED, "data_type " + std::to_string(decoded.dataType) +
                                                " (" + onnxTypeName(decoded.dataType) +
                                                ") is not supported");
  if (decoded.external)
    return fail(SPARQ_STATUS_UNIMPLEMENTED,
                "tensors with external data (data_location EXTERNAL) are not supported");
  if (decoded.hasSegment)
    return fail(SPARQ_STATUS_UNIMPLEMENTED, "segmented tensors are not supported");
  if (decoded.dims.size() > SPARQ_MAX_RANK)
    return fail(SPARQ_STATUS_UNIMPLEMENTED, "rank " + std::to_string(decoded.dims.size()) +
                                                " exceeds " + std::to_string(SPARQ_MAX_RANK));
  for (size_t i = 0; i < decoded.dims.size(); ++i)
    if (decoded.dims[i] < 0)
      return fail(SPARQ_STATUS_DATA_LOSS, "dims[" + std::to_string(i) + "] is " +
                                              std::to_string(decoded.dims[i]));
  int64_t count = 0;
  size_t byteSize = 0;
  if (!checkedNumElements(decoded.dims.data(), decoded.dims.size(), count) ||
      !checkedByteSize(type, count, byteSize))
    return fail(SPARQ_STATUS_DATA_LOSS,
                "shape " + formatShape(decoded.dims) + " overflows the addressable size");

  bool isString = type == SPARQ_ELEMENT_TYPE_STRING;
  if (isString && decoded.hasRaw)
    return fail(SPARQ_STATUS_DATA_LOSS, "raw_data cannot hold the data of a string tensor "
                                        "(ONNX stores strings in string_data)");

  struct Typed {
    const char *name;
    size_t count;
  } typed[] = {{"float_data", decoded.floatData.size()},
               {"int32_data", decoded.int32Data.size()},
               {"string_data", decoded.stringData.size()},
               {"int64_data", decoded.int64Data.size()},
               {"double_data", decoded.doubleData.size()},
               {"uint64_data", decoded.uint64Data.size()}};
  const char *field = nullptr;
  switch (type) {
  case SPARQ_ELEMENT_TYPE_FLOAT32: field = "float_data"; break;
  case SPARQ_ELEMENT_TYPE_STRING: field = "string_data"; break;
  case SPARQ_ELEMENT_TYPE_INT64: field = "int64_data"; break;
  case SPARQ_ELEMENT_TYPE_FLOAT64: field = "double_data"; break;
  case SPARQ_ELEMENT_TYPE_UINT32:
  case SPARQ_ELEMENT_TYPE_UINT64: field = "uint64_data"; break;
  default: field = "int32_data"; break;
  }
  std::string typeName = sparq_element_type_name(type);
  for (const Typed &entry : typed) {
    if (entry.count == 0)
      continue;
    if (decoded.hasRaw)
      return fail(SPARQ_STATUS_DATA_LOSS,
                  std::string("TensorProto has both raw_data and ") + entry.name);
    if (std::strcmp(entry.name, field) != 0)
      return fail(SPARQ_STATUS_DATA_LOSS, std::string(entry.name) +
                                              " cannot hold the data of a " + typeName +
                                              " tensor (expected " + field + ")");
    if (entry.count != uint64_t(count))
      return fail(SPARQ_STATUS_DATA_LOSS, std::string(entry.name) + " has " +
                                              std::to_string(entry.count) + " values, shape " +
                                              formatShape(decoded.dims) + " needs " +
                                              std::to_string(count));
  }
  if (decoded.hasRaw && decoded.rawSize != byteSize)
    return fail(SPARQ_STATUS_DATA_LOSS,
                "raw_data has " + std::to_string(decoded.rawSize) + " bytes, a " + typeName +
                    " tensor of shape " + formatShape(decoded.dims) + " needs " +
                    std::to_string(byteSize));
  if (!decoded.hasRaw && count > 0) {
    bool any = false;
    for (const Typed &entry : typed)
      any |= entry.count > 0;
    if (!any)
      return fail(SPARQ_STATUS_DATA_LOSS,
                  "TensorProto of shape " + formatShape(decoded.dims) + " has no data (" +
                      (isString ? std::string("no string_data")
                                : "neither raw_data nor " + std::string(field)) +
                      ")");
  }
  if (isString)
    return buildStringTensor(decoded, count, source, out_tensor);

  sparq_tensor_t *tensor = nullptr;
  if (sparq_status_t status = createTensor(type, decoded.dims, &tensor))
    return status;
  sparq_status_t status = nullptr;
  void *dst = tensor->data;
  if (count == 0) {
    // Nothing to copy.
  } else if (decoded.hasRaw) {
    std::memcpy(dst, decoded.raw, byteSize);
  } else {
    const std::vector<int32_t> &i32 = decoded.int32Data;
    switch (type) {
    case SPARQ_ELEMENT_TYPE_FLOAT32:
      std::memcpy(dst, decoded.floatData.data(), byteSize);
      break;
    case SPARQ_ELEMENT_TYPE_FLOAT64:
      std::memcpy(dst, decoded.doubleData.data(), byteSize);
      break;
    case SPARQ_ELEMENT_TYPE_INT64:
      std::memcpy(dst, decoded.int64Data.data(), byteSize);
      break;
    case SPARQ_ELEMENT_TYPE_UINT64:
      std::memcpy(dst, decoded.uint64Data.data(), byteSize);
      break;
    case SPARQ_ELEMENT_TYPE_UINT32: {
      uint32_t *values = static_cast<uint32_t *>(dst);
      for (size_t i = 0; i < decoded.uint64Data.size() && !status; ++i) {
        if (decoded.uint64Data[i] > std::numeric_limits<uint32_t>::max())
          status = fail(SPARQ_STATUS_DATA_LOSS, "uint64_data[" + std::to_string(i) + "] = " +
                                                    std::to_string(decoded.uint64Data[i]) +
                                                    " is out of range for uint32");
        values[i] = uint32_t(decoded.uint64Data[i]);
      }
      break;
    }
    case SPARQ_ELEMENT_TYPE_INT32:
      std::memcpy(dst, i32.data(), byteSize);
      break;
    case SPARQ_ELEMENT_TYPE_INT16:
      status = narrowInt32<int16_t>(i32, -32768, 32767, dst, source, "int16");
      break;
    case SPARQ_ELEMENT_TYPE_INT8:
      status = narrowInt32<int8_t>(i32, -128, 127, dst, source, "int8");
      break;
    case SPARQ_ELEMENT_TYPE_UINT16:
      status = narrowInt32<uint16_t>(i32, 0, 65535, dst, source, "uint16");
      break;
    case SPARQ_ELEMENT_TYPE_UINT8:
      status = narrowInt32<uint8_t>(i32, 0, 255, dst, source, "uint8");
      break;
    case SPARQ_ELEMENT_TYPE_BOOL:
      status = narrowInt32<uint8_t>(i32, 0, 1, dst, source, "bool");
      break;
    case SPARQ_ELEMENT_TYPE_FLOAT16:
      status = narrowInt32<uint16_t>(i32, 0, 65535, dst, source, "float16 (bit pattern)");
      break;
    case SPARQ_ELEMENT_TYPE_BFLOAT16:
      status = narrowInt32<uint16_t>(i32, 0, 65535, dst, source, "bfloat16 (bit pattern)");
      break;
    default:
      status = fail(SPARQ_STATUS_INTERNAL, "unhandled element type");
      break;
    }
  }
  if (!status && decoded.hasRaw && type == SPARQ_ELEMENT_TYPE_BOOL) {
    const uint8_t *bytes = static_cast<const uint8_t *>(dst);
    for (int64_t i = 0; i < count && !status; ++i)
      if (bytes[i] > 1)
        status = fail(SPARQ_STATUS_DATA_LOSS, "raw_data byte " + std::to_string(i) + " is " +
                                                  std::to_string(bytes[i]) +
                                                  ", not a bool (0 or 1)");
  }
  if (status) {
    sparq_tensor_destroy(tensor);
    return status;
  }
  tensor->name = decoded.name;
  *out_tensor = tensor;
  return nullptr;
}

void putVarint(std::string &out, uint64_t value) {
  while (value >= 0x80) {
    out += char(uint8_t(value) | 0x80);
    value >>= 7;
  }
  out += char(value);
}

void putTag(std::string &out, uint32_t field, WireType wire) {
  putVarint(out, (uint64_t(field) << 3) | wire);
}

/// A length-delimited field.
void putBytes(std::string &out, uint32_t field, std::string_view bytes) {
  putTag(out, field, LengthDelimited);
  putVarint(out, bytes.size());
  if (!bytes.empty())
    out.append(bytes.data(), bytes.size());
}

} // namespace

namespace sparq {
namespace runtime {

std::string describeSource(const char *sourceName) {
  return sourceName ? "file '" + std::string(sourceName) + "'" : std::string("tensor data");
}

} // namespace runtime
} // namespace sparq

extern "C" {

sparq_status_t sparq_tensor_decode_pb(const void *data, size_t size, const char *source_name,
                                      sparq_tensor_t **out_tensor) {
  if (!out_tensor || (size > 0 && !data))
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string("sparq_tensor_decode_pb: ") +
                          (!out_tensor ? "out_tensor" : "data") + " is NULL");
  try {
    std::string source = describeSource(source_name);
    Decoded decoded;
    Decoder decoder(static_cast<const uint8_t *>(data), size, source);
    if (sparq_status_t status = decoder.decode(decoded))
      return status;
    return buildTensor(decoded, source, out_tensor);
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      describeSource(source_name) + ": out of memory decoding a TensorProto");
  }
}

sparq_status_t sparq_tensor_read_pb(const char *path, sparq_tensor_t **out_tensor) {
  return readTensorFile("sparq_tensor_read_pb", path, out_tensor, sparq_tensor_decode_pb);
}

sparq_status_t sparq_tensor_write_pb(const sparq_tensor_t *tensor, const char *path) {
  if (!tensor || !path)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string("sparq_tensor_write_pb: ") + (!tensor ? "tensor" : "path") +
                          " is NULL");
  try {
    // Field order and encoding as protobuf serializes onnx.proto (proto2: dims unpacked).
    std::string out;
    for (int64_t dim : tensor->dims) {
      putTag(out, 1, Varint);
      putVarint(out, uint64_t(dim));
    }
    putTag(out, 2, Varint);
    putVarint(out, uint64_t(tensor->type));
    bool isString = tensor->type == SPARQ_ELEMENT_TYPE_STRING;
    if (isString) {
      // string_data (6) comes before name (8) in field order; a NULL element is "".
      const char *const *elements = static_cast<const char *const *>(tensor->data);
      for (int64_t i = 0; i < tensor->numElements; ++i)
        putBytes(out, 6, elements[i] ? elements[i] : "");
    }
    if (!tensor->name.empty())
      putBytes(out, 8, tensor->name);
    if (!isString)
      putBytes(out, 9, std::string_view(static_cast<const char *>(tensor->data), tensor->byteSize));
    return writeWholeFile(path, out.data(), out.size());
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      "file '" + std::string(path) + "': out of memory encoding a TensorProto");
  }
}

} // extern "C"
