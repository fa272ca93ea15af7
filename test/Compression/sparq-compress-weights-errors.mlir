// Tests that impossible compression settings are rejected with a message naming the setting.
// RUN: not sparq-opt %s --sparq-compress-weights="sparsity=4:4" 2>&1 | FileCheck %s --check-prefix=NM
// RUN: not sparq-opt %s --sparq-compress-weights="wbits=9" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not sparq-opt %s --sparq-compress-weights="wbits=1" 2>&1 | FileCheck %s --check-prefix=SYM1
// RUN: not sparq-opt %s --sparq-compress-weights="shiftadd=2 sparsity=2:4" 2>&1 | FileCheck %s --check-prefix=SANM
// RUN: not sparq-opt %s --sparq-compress-weights="shiftadd=2 wbits=4" 2>&1 | FileCheck %s --check-prefix=SAQ
// RUN: not sparq-opt %s --sparq-compress-weights="wbits=4 only=(" 2>&1 | FileCheck %s --check-prefix=REGEX
// RUN: not sparq-opt %s --sparq-compress-weights="recipe=%t.missing.json" 2>&1 | FileCheck %s --check-prefix=NORECIPE
// RUN: echo '{"default": {"wbits": 4}, "layers": [{"match": "fc", "wbits": "four"}]}' > %t.bad.json
// RUN: not sparq-opt %s --sparq-compress-weights="recipe=%t.bad.json" 2>&1 | FileCheck %s --check-prefix=BADKEY
// RUN: echo '{"layers": [{"wbits": 4}]}' > %t.nomatch.json
// RUN: not sparq-opt %s --sparq-compress-weights="recipe=%t.nomatch.json" 2>&1 | FileCheck %s --check-prefix=NOMATCH
// RUN: echo '{"layers": [{"match": "fc", "bitz": 4}]}' > %t.unknown.json
// RUN: not sparq-opt %s --sparq-compress-weights="recipe=%t.unknown.json" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not sparq-opt %s --sparq-compress-weights="scheme=w4g128,2:4" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not sparq-opt %s --sparq-compress-weights="scheme=w9" 2>&1 | FileCheck %s --check-prefix=W9
// RUN: not sparq-opt %s --sparq-compress-weights="scheme=2:4,,w4" 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not sparq-opt %s --sparq-compress-weights="scheme=foo" 2>&1 | FileCheck %s --check-prefix=UNKNOWNSCHEME
// RUN: echo '{"layers": [{"match": "fc", "scheme": 4}]}' > %t.scheme.json
// RUN: not sparq-opt %s --sparq-compress-weights="recipe=%t.scheme.json" 2>&1 | FileCheck %s --check-prefix=RECIPESCHEME
// RUN: echo '{"layers": [{"match": "fc", "scheme": "1:4,sa9"}]}' > %t.scheme2.json
// RUN: not sparq-opt %s --sparq-compress-weights="recipe=%t.scheme2.json" 2>&1 | FileCheck %s --check-prefix=RECIPESA
// RUN: echo '{"default": {"wbits": 4' > %t.json.json
// RUN: not sparq-opt %s --sparq-compress-weights="recipe=%t.json.json" 2>&1 | FileCheck %s --check-prefix=JSON

// NM: invalid compression settings: sparsity '4:4' is not N:M with 1 <= N < M <= 16
// BITS: invalid compression settings: wbits must be in [1, 8], got 9
// SYM1: invalid compression settings: symmetric quantization needs at least 2 bits
// SANM: invalid compression settings: shift-add cannot be combined with N:M sparsity
// SAQ: invalid compression settings: shift-add and uniform quantization are alternatives
// REGEX: --only '(' is not a valid regex
// NORECIPE: cannot read recipe '{{.*}}missing.json'
// BADKEY: layers[0]: 'wbits' must be an integer
// NOMATCH: layers[0]: needs a "match" regex
// UNKNOWN: layers[0]: unknown key 'bitz'
// JSON: is not valid JSON
// ORDER: invalid compression settings: W4g128 stores the values itself, so it must be the last format of the list (got 'W4g128+2:4')
// W9: invalid compression settings: scheme 'w9': bits must be in [1, 8]
// EMPTY: invalid compression settings: empty entry in scheme list '2:4,,w4'
// UNKNOWNSCHEME: invalid compression settings: unknown scheme 'foo' in 'foo'; known forms:
// UNKNOWNSCHEME-DAG: N:M
// UNKNOWNSCHEME-DAG: wB[gG|pc|pt][a]
// UNKNOWNSCHEME-DAG: saQ[gG][p2]
// RECIPESCHEME: layers[0]: 'scheme' must be a string like "2:4,w4g128"
// RECIPESA: layers[0]: scheme 'sa9': shift-add needs 1 to 8 binary planes

func.func @main_graph(%x: tensor<2x4xf32>) -> tensor<2x4xf32> attributes {sparq.entry} {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %y = sparq_onnx.node "MatMul"(%x, %w) {attrs = {}, domain = "", name = "fc", opset = 13 : i64} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
