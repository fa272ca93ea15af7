// Tests the MXFP4 and NVFP4 compressors against hand-computed codes and scales. The weight is one
// output channel of K = 32 values (a MatMul B of [32, 1]):
//   0 0.5 1 1.5 2 3 4 6 -0.5 -1 -1.5 -2 -3 -4 -6 2.5 | 5 0.25 0.75 1.25 1.75 3.5 -2.5 0 x 9
// MXFP4: amax 6 -> scale 2^(floor(log2 6) - 2) = 1 (E8M0 byte 127; 2^1 encodes worse). E2M1
// codes (sign bit 8): the exact values map to 0..7 and 9..15; ties go to the even code:
// 2.5 -> 2 (4), 5 -> 4 (6), 0.25 -> 0 (0), 0.75 -> 1 (2), 1.25 -> 1 (2), 1.75 -> 2 (4),
// 3.5 -> 4 (6), -2.5 -> -2 (12). Two codes per byte, the even element in the low nibble:
// 0x10 0x32 0x54 0x76 0xA9 0xCB 0xED 0x4F 0x06 0x22 0x64 0x0C 0 0 0 0.
// RUN: sparq-opt %s --sparq-compress-weights="scheme=mxfp4" | FileCheck %s --check-prefix=MX
// MX: %[[C:.*]] = arith.constant dense<{{\[\[}}16, 50, 84, 118, -87, -53, -19, 79, 6, 34, 100, 12, 0, 0, 0, 0]]> : tensor<1x16xi8>
// MX: %[[S:.*]] = arith.constant dense<127> : tensor<1x1xi8>
// MX: sparq_weight.linear %{{.*}} [%[[C]], %[[S]]] formats [#sparq_mx.mxfp4]
//
// NVFP4: tensor scale g = 6 / (448 * 6) = 1/448. Block 0 (amax 6): 6 / 6 / g = 448, E4M3 byte
// 0x7E = 126, effective scale 1: the codes of MXFP4. Block 1 (amax 5): 5 / 6 * 448 = 373.3,
// nearest E4M3 384 (byte 0x7C = 124), effective scale 384/448 = 0.857: 5 -> 5.83 -> 6 (7),
// 0.25 -> 0.29 -> 0.5 (1), 0.75 -> 0.875 -> 1 (2), 1.25 -> 1.46 -> 1.5 (3), 1.75 -> 2.04 -> 2 (4),
// 3.5 -> 4.08 -> 4 (6), -2.5 -> -2.92 -> -3 (13): bytes 0x17 0x32 0x64 0x0D.
// RUN: sparq-opt %s --sparq-compress-weights="scheme=nvfp4" | FileCheck %s --check-prefix=NV
// NV: %[[C:.*]] = arith.constant dense<{{\[\[}}16, 50, 84, 118, -87, -53, -19, 79, 23, 50, 100, 13, 0, 0, 0, 0]]> : tensor<1x16xi8>
// NV: %[[S:.*]] = arith.constant dense<{{\[\[}}126, 124]]> : tensor<1x2xi8>
// NV: %[[G:.*]] = arith.constant dense<0.002232142{{[0-9]*}}> : tensor<1xf32>
// NV: sparq_weight.linear %{{.*}} [%[[C]], %[[S]], %[[G]]] formats [#sparq_mx.nvfp4]

func.func @main_graph(%x: tensor<1x32xf32>) -> tensor<1x1xf32> attributes {sparq.entry} {
  %w = arith.constant dense<[[0.0], [0.5], [1.0], [1.5], [2.0], [3.0], [4.0], [6.0],
                             [-0.5], [-1.0], [-1.5], [-2.0], [-3.0], [-4.0], [-6.0], [2.5],
                             [5.0], [0.25], [0.75], [1.25], [1.75], [3.5], [-2.5], [0.0],
                             [0.0], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0]]> : tensor<32x1xf32> loc("W")
  %y = sparq_onnx.node "MatMul"(%x, %w) {attrs = {}, domain = "", name = "fc", opset = 13 : i64} : (tensor<1x32xf32>, tensor<32x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
