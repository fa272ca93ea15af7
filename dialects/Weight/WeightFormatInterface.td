//===- WeightFormatInterface.td - the weight-format interface -*- tablegen -*-===//
#ifndef SPARQ_WEIGHT_FORMAT_INTERFACE_TD
#define SPARQ_WEIGHT_FORMAT_INTERFACE_TD

include "mlir/IR/OpBase.td"

def SparqWeight_WeightFormatAttrInterface : AttrInterface<"WeightFormatAttrInterface"> {
  let cppNamespace = "::sparq::weight";
  let description = [{
    One compression scheme's description of a packed weight: what it stores for a canonical
    `[rows, K]` f32 weight, how the compiler computes it from host weights (through the
    MLIR-free packed-format and compression libraries), how its reference semantics decode it in
    IR, and the key a backend uses to pick a kernel. See dialects/Weight/WeightFormat.h for the
    host-side types and docs/adding-a-scheme.md.
  }];
  let methods = [
    InterfaceMethod<
      "The format's spelling in `--scheme` lists and in the compression report (e.g. `2:4`, "
      "`W4g128`, `MXFP4`).",
      "std::string", "getSpelling">,
    InterfaceMethod<
      "True for an encoding, which stores the values itself and must end a format list; false "
      "for a transform, which hands a `[rows, getInnerK(K)]` value matrix to the next format.",
      "bool", "isEncoding">,
    InterfaceMethod<
      "Reduction length of the values a transform hands on (K for an encoding).",
      "int64_t", "getInnerK", (ins "int64_t":$k)>,
    InterfaceMethod<
      "Types of the packed operands this format stores for a `[rows, K]` weight, and their "
      "names (used for constant blob names and diagnostics).",
      "void", "getPackedOperands",
      (ins "int64_t":$rows, "int64_t":$k, "::llvm::SmallVectorImpl<::mlir::Type> &":$types,
           "::llvm::SmallVectorImpl<std::string> &":$names)>,
    InterfaceMethod<
      "Compresses the host weight `w` (`[rows, K]` row-major f32). An encoding returns its "
      "packed operands and the dequantized `[rows, K]` weight; a transform returns its packed "
      "operands and the `[rows, getInnerK(K)]` values it hands on.",
      "::llvm::Expected<::sparq::weight::HostPart>", "compressHost",
      (ins "::llvm::ArrayRef<float>":$w, "int64_t":$rows, "int64_t":$k,
           "const ::sparq::weight::CompressOptions &":$options)>,
    InterfaceMethod<
      "Transforms only: the dense `[rows, K]` weight from the (dequantized) values handed on "
      "and this format's own packed operands.",
      "std::vector<float>", "expandHost",
      (ins "::llvm::ArrayRef<float>":$inner, "const ::sparq::weight::HostPart &":$part,
           "int64_t":$rows, "int64_t":$k),
      /*methodBody=*/"", /*defaultImplementation=*/[{
        llvm_unreachable("expandHost called on an encoding");
      }]>,
    InterfaceMethod<
      "Reference decode in IR: the dense `[rows, K]` tensor of `floatType` from this format's "
      "packed operands (and, for a transform, the decoded values handed on in `inner`).",
      "::mlir::Value", "buildDecode",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc, "::mlir::ValueRange":$packed,
           "::mlir::Value":$inner, "int64_t":$rows, "int64_t":$k, "::mlir::Type":$floatType)>,
    InterfaceMethod<
      "The key a backend looks its kernels up by (e.g. `nm2of4`, `q4s.g128`); a backend with "
      "no kernel for a list's keys runs the reference decode.",
      "std::string", "getKernelKey">,
  ];
}

#endif // SPARQ_WEIGHT_FORMAT_INTERFACE_TD
