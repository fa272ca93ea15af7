//===- dialects/Common/ConstantData.cpp - constant tensor contents -----------===//
#include "dialects/Common/ConstantData.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace sparq {
namespace {

template <typename T>
std::optional<std::vector<T>> readElements(Attribute attr) {
  auto shaped = dyn_cast_or_null<ElementsAttr>(attr);
  if (!shaped)
    return std::nullopt;
  auto type = cast<ShapedType>(shaped.getType());
  Type et = type.getElementType();
  std::vector<T> out;
  out.reserve(type.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (auto it = dyn_cast<IntegerType>(et)) {
      bool isUnsigned = it.isUnsigned() || it.getWidth() == 1;
      for (APInt v : dense.getValues<APInt>())
        out.push_back(isUnsigned ? static_cast<T>(v.getZExtValue())
                                 : static_cast<T>(v.getSExtValue()));
      return out;
    }
    if (isa<FloatType>(et)) {
      for (APFloat v : dense.getValues<APFloat>())
        out.push_back(static_cast<T>(v.convertToDouble()));
      return out;
    }
    return std::nullopt;
  }
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res || !res.getRawHandle().getBlob())
    return std::nullopt;
  ArrayRef<char> data = res.getRawHandle().getBlob()->getData();
  int64_t n = type.getNumElements();
  auto read = [&](auto tag) -> bool {
    using S = decltype(tag);
    if (data.size() < n * sizeof(S))
      return false;
    for (int64_t i = 0; i < n; ++i) {
      S v;
      std::memcpy(&v, data.data() + i * sizeof(S), sizeof(S));
      out.push_back(static_cast<T>(v));
    }
    return true;
  };
  bool ok = false;
  if (et.isF32())
    ok = read(float());
  else if (et.isF64())
    ok = read(double());
  else if (auto it = dyn_cast<IntegerType>(et)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 8: ok = u ? read(uint8_t()) : read(int8_t()); break;
    case 16: ok = u ? read(uint16_t()) : read(int16_t()); break;
    case 32: ok = u ? read(uint32_t()) : read(int32_t()); break;
    case 64: ok = u ? read(uint64_t()) : read(int64_t()); break;
    default: break;
    }
  }
  if (!ok)
    return std::nullopt;
  return out;
}

template <typename T>
TypedAttr makeConstant(RankedTensorType type, ArrayRef<T> values, StringRef blobName,
                       size_t threshold) {
  size_t bytes = values.size() * sizeof(T);
  if (bytes < threshold)
    return DenseElementsAttr::get(type, values);
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(values);
  return DenseResourceElementsAttr::get(type, blobName, std::move(blob));
}

} // namespace

std::optional<std::vector<double>> readElementsAsDouble(Attribute attr) {
  return readElements<double>(attr);
}

std::optional<std::vector<int64_t>> readElementsAsInt(Attribute attr) {
  return readElements<int64_t>(attr);
}

TypedAttr makeFloatConstant(RankedTensorType type, ArrayRef<float> values, StringRef blobName,
                            size_t threshold) {
  return makeConstant(type, values, blobName, threshold);
}

TypedAttr makeI8Constant(RankedTensorType type, ArrayRef<int8_t> values, StringRef blobName,
                         size_t threshold) {
  return makeConstant(type, values, blobName, threshold);
}

TypedAttr makeConstantFromBytes(RankedTensorType type, ArrayRef<char> bytes, StringRef blobName,
                                size_t threshold) {
  if (bytes.size() < threshold)
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(uint64_t));
  return DenseResourceElementsAttr::get(type, blobName, std::move(blob));
}

} // namespace sparq
