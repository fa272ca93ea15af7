// Tests sparq-lower-runtime-checks: cf.assert becomes a branch to a block that calls the
// artifact's failure hook with the message (one private constant per distinct message) and
// does not return; an assert inside an OpenMP region is refused.
// RUN: sparq-opt %s --sparq-lower-runtime-checks -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @checks
// CHECK-NOT: cf.assert
// CHECK: cf.cond_br %arg0, ^[[OK1:.*]], ^[[FAIL1:.*]]
// CHECK: ^[[FAIL1]]:
// CHECK-NEXT: %[[M:.*]] = llvm.mlir.addressof @sparq_check_msg_1 : !llvm.ptr
// CHECK-NEXT: llvm.call @sparq_uk_check_failed(%[[M]]) : (!llvm.ptr) -> ()
// CHECK-NEXT: llvm.unreachable
// CHECK: ^[[OK1]]:
// CHECK: addressof @sparq_check_msg_2
// CHECK: addressof @sparq_check_msg_1
// CHECK: return
// CHECK-DAG: llvm.mlir.global private constant @sparq_check_msg_1("node 'a': too big\00")
// CHECK-DAG: llvm.mlir.global private constant @sparq_check_msg_2("node 'b': negative\00")
// CHECK-DAG: llvm.func @sparq_uk_check_failed(!llvm.ptr) attributes {passthrough = ["noreturn", "cold"]}
func.func @checks(%ok: i1, %ok2: i1, %ok3: i1) {
  cf.assert %ok, "node 'a': too big"
  cf.assert %ok2, "node 'b': negative"
  cf.assert %ok3, "node 'a': too big"
  return
}

// -----

func.func @in_parallel(%ok: i1) {
  omp.parallel {
    // expected-error @+1 {{run-time check inside a parallel region ('omp.parallel'): a failure there could not end the invocation}}
    cf.assert %ok, "node 'c': bad"
    omp.terminator
  }
  return
}
