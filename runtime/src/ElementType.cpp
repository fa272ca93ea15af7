//===- runtime/src/ElementType.cpp - element types and half floats -*- C++ -*-===//
//
// Names and sizes of the element types (a string element is a `const char *`), and
// float16/bfloat16 conversions.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cmath>
#include <cstring>

using namespace sparq::runtime;

namespace {

struct TypeEntry {
  sparq_element_type_t type;
  const char *name;
  size_t size;
};

const TypeEntry typeTable[] = {
    {SPARQ_ELEMENT_TYPE_FLOAT32, "float32", 4}, {SPARQ_ELEMENT_TYPE_FLOAT64, "float64", 8},
    {SPARQ_ELEMENT_TYPE_FLOAT16, "float16", 2}, {SPARQ_ELEMENT_TYPE_BFLOAT16, "bfloat16", 2},
    {SPARQ_ELEMENT_TYPE_INT8, "int8", 1},       {SPARQ_ELEMENT_TYPE_INT16, "int16", 2},
    {SPARQ_ELEMENT_TYPE_INT32, "int32", 4},     {SPARQ_ELEMENT_TYPE_INT64, "int64", 8},
    {SPARQ_ELEMENT_TYPE_UINT8, "uint8", 1},     {SPARQ_ELEMENT_TYPE_UINT16, "uint16", 2},
    {SPARQ_ELEMENT_TYPE_UINT32, "uint32", 4},   {SPARQ_ELEMENT_TYPE_UINT64, "uint64", 8},
    {SPARQ_ELEMENT_TYPE_BOOL, "bool", 1},
    {SPARQ_ELEMENT_TYPE_STRING, "string", sizeof(const char *)},
};

const TypeEntry *lookup(sparq_element_type_t type) {
  for (const TypeEntry &entry : typeTable)
    if (entry.type == type)
      return &entry;
  return nullptr;
}

uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float bitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

} // namespace

namespace sparq {
namespace runtime {

bool isSupportedElementType(sparq_element_type_t type) { return lookup(type) != nullptr; }

} // namespace runtime
} // namespace sparq

extern "C" {

const char *sparq_element_type_name(sparq_element_type_t type) {
  const TypeEntry *entry = lookup(type);
  return entry ? entry->name : "undefined";
}

size_t sparq_element_type_size(sparq_element_type_t type) {
  const TypeEntry *entry = lookup(type);
  return entry ? entry->size : 0;
}

sparq_status_t sparq_element_type_from_name(const char *name, sparq_element_type_t *out_type) {
  if (!name || !out_type)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      "sparq_element_type_from_name: NULL argument");
  for (const TypeEntry &entry : typeTable) {
    if (std::strcmp(entry.name, name) == 0) {
      *out_type = entry.type;
      return nullptr;
    }
  }
  return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                    std::string("unknown element type '") + name + "'");
}

float sparq_float16_to_float32(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    float magnitude = std::ldexp(float(mantissa), -24);
    return bitsFloat(floatBits(magnitude) | sign);
  }
  if (exponent == 31)
    return bitsFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsFloat(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

uint16_t sparq_float32_to_float16(float value) {
  // Round to nearest even (after F. Giesen's float_to_half_fast3_rtne).
  uint32_t f = floatBits(value);
  uint32_t sign = f & 0x80000000u;
  f ^= sign;
  uint16_t out;
  if (f >= (143u << 23)) { // >= 65536: infinity, or NaN (kept quiet)
    out = f > 0x7f800000u ? 0x7e00 : 0x7c00;
  } else if (f < (113u << 23)) { // result is subnormal or zero
    const uint32_t denormMagic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    float shifted = bitsFloat(f) + bitsFloat(denormMagic);
    out = uint16_t(floatBits(shifted) - denormMagic);
  } else {
    uint32_t mantissaOdd = (f >> 13) & 1u;
    f -= 112u << 23; // rebias exponent 127 -> 15
    f += 0xfffu + mantissaOdd;
    out = uint16_t(f >> 13);
  }
  return uint16_t(out | (sign >> 16));
}

float sparq_bfloat16_to_float32(uint16_t bits) { return bitsFloat(uint32_t(bits) << 16); }

uint16_t sparq_float32_to_bfloat16(float value) {
  uint32_t f = floatBits(value);
  if ((f & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((f >> 16) | 0x40u); // NaN: keep sign and payload top, force quiet
  f += 0x7fffu + ((f >> 16) & 1u);
  return uint16_t(f >> 16);
}

} // extern "C"
