// prism.fusion: the custom form round-trips, and the verifier names what is
// wrong with a body that does not have the form its kind says.
// RUN: prism-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: prism-opt %s -split-input-file -verify-diagnostics --mlir-print-op-generic | prism-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @every_kind
// CHECK: prism.fusion elementwise -> (tensor<4x8xf32>) {
// CHECK: prism.fusion matmul -> (tensor<4x8xf32>) {
// CHECK: prism.fusion gated_matmul -> (tensor<4x8xf32>) {
// CHECK: %{{.+}}:2 = prism.fusion norm -> (tensor<4x8xf32>, tensor<4x8xf32>) {
// CHECK: prism.yield
func.func @every_kind(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %v: tensor<8x8xf32>, %n: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
    %c = arith.constant dense<2.0> : tensor<f32>
    %a = prism.mul %x, %c : tensor<4x8xf32>, tensor<f32>
    %b = prism.tanh %a : tensor<4x8xf32>
    prism.yield %b : tensor<4x8xf32>
  }
  %1 = prism.fusion matmul -> (tensor<4x8xf32>) {
    %m = prism.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32>
    %r = prism.add %m, %x : tensor<4x8xf32>, tensor<4x8xf32>
    prism.yield %r : tensor<4x8xf32>
  }
  %2 = prism.fusion gated_matmul -> (tensor<4x8xf32>) {
    %g = prism.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32>
    %u = prism.matmul %x, %v : tensor<4x8xf32>, tensor<8x8xf32>
    %s = prism.swiglu %g, %u : tensor<4x8xf32>
    prism.yield %s : tensor<4x8xf32>
  }
  %3:2 = prism.fusion norm -> (tensor<4x8xf32>, tensor<4x8xf32>) {
    %s = prism.add %x, %1 : tensor<4x8xf32>, tensor<4x8xf32>
    %y = prism.rms_norm %s, %n : tensor<4x8xf32>, tensor<8xf32>
    prism.yield %y, %s : tensor<4x8xf32>, tensor<4x8xf32>
  }
  return %0, %2, %3#0, %3#1 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

func.func @yield_types(%x: tensor<4x8xf32>) -> tensor<4x8xf16> {
  // expected-error @+1 {{'prism.fusion' op yields 'tensor<4x8xf32>' but its results are 'tensor<4x8xf16>'}}
  %0 = prism.fusion elementwise -> (tensor<4x8xf16>) {
    %a = prism.exp %x : tensor<4x8xf32>
    prism.yield %a : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf16>
}

// -----

func.func @not_fusable(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{body is not a 'elementwise' fusion: 'prism.softmax' cannot be part of a fused kernel}}
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
    %a = prism.softmax %x axis = -1 : tensor<4x8xf32>
    prism.yield %a : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shape_change(%x: tensor<8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'prism.exp' changes the shape of the fused computation}}
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
    %a = prism.exp %x : tensor<8xf32>
    %b = prism.add %a, %y : tensor<8xf32>, tensor<4x8xf32>
    prism.yield %b : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @matmul_not_first(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{a 'matmul' fusion starts with its prism.matmul}}
  %0 = prism.fusion matmul -> (tensor<4x8xf32>) {
    %a = prism.exp %x : tensor<4x8xf32>
    %m = prism.matmul %a, %w : tensor<4x8xf32>, tensor<8x8xf32>
    prism.yield %m : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @two_matmuls(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'prism.matmul' cannot follow here in a 'matmul' fusion}}
  %0 = prism.fusion matmul -> (tensor<4x8xf32>) {
    %m = prism.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32>
    %n = prism.matmul %m, %w : tensor<4x8xf32>, tensor<8x8xf32>
    prism.yield %n : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @gated_different_inputs(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{the two matmuls of a 'gated_matmul' fusion must read the same lhs}}
  %0 = prism.fusion gated_matmul -> (tensor<4x8xf32>) {
    %g = prism.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32>
    %u = prism.matmul %y, %w : tensor<4x8xf32>, tensor<8x8xf32>
    %s = prism.swiglu %g, %u : tensor<4x8xf32>
    prism.yield %s : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @norm_of_other(%x: tensor<4x8xf32>, %n: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{the norm of a 'norm' fusion must normalize the prologue's last value}}
  %0 = prism.fusion norm -> (tensor<4x8xf32>) {
    %s = prism.exp %x : tensor<4x8xf32>
    %y = prism.rms_norm %x, %n : tensor<4x8xf32>, tensor<8xf32>
    prism.yield %y : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @norm_yields(%x: tensor<4x8xf32>, %n: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{a 'norm' fusion yields the normalized value, and optionally the prologue's value}}
  %0 = prism.fusion norm -> (tensor<4x8xf32>) {
    %s = prism.exp %x : tensor<4x8xf32>
    %y = prism.rms_norm %s, %n : tensor<4x8xf32>, tensor<8xf32>
    prism.yield %s : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @yield_outside(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{every result must be computed in the body}}
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
    %a = prism.exp %x : tensor<4x8xf32>
    prism.yield %x : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @yield_elsewhere(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'prism.yield' op expects parent op 'prism.fusion'}}
  prism.yield %x : tensor<4x8xf32>
}

// -----

func.func @no_yield(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'prism.fusion' op body must end with prism.yield}}
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
    %a = prism.exp %x : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @block_arguments(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'prism.fusion' op body takes no block arguments}}
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
  ^bb0(%y: tensor<4x8xf32>):
    %a = prism.exp %y : tensor<4x8xf32>
    prism.yield %a : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @rope_yields_reshape(%x: tensor<1x?x24xf32>, %w: tensor<24x24xf32>, %pos: tensor<?xi32>) -> tensor<1x?x2x12xf32> {
  // expected-error @+1 {{a 'matmul_rope' fusion yields the rope's result}}
  %0 = prism.fusion matmul_rope -> (tensor<1x?x2x12xf32>) {
    %p = prism.matmul %x, %w transpose_rhs : tensor<1x?x24xf32>, tensor<24x24xf32>
    %h = prism.reshape %p : tensor<1x?x24xf32> to tensor<1x?x2x12xf32>
    %q = prism.rope neox bshd %h, %pos : tensor<1x?x2x12xf32>, tensor<?xi32>
    prism.yield %h : tensor<1x?x2x12xf32>
  }
  return %0 : tensor<1x?x2x12xf32>
}

// -----

func.func @norm_weight_in_body(%x: tensor<64xf32>, %y: tensor<64xf32>, %w0: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{the weight and bias of a 'norm' fusion's norm are read from above the body}}
  %0 = prism.fusion norm -> (tensor<64xf32>) {
    %w = prism.exp %w0 : tensor<64xf32>
    %a = prism.add %x, %y : tensor<64xf32>, tensor<64xf32>
    %n = prism.rms_norm %a, %w : tensor<64xf32>, tensor<64xf32>
    prism.yield %n : tensor<64xf32>
  }
  return %0 : tensor<64xf32>
}
