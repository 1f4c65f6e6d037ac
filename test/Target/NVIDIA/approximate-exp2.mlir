// RUN: prism-opt %s -prism-nvidia-approximate-exp2 | FileCheck %s

// f32 exp2 in a kernel, scalar or 1-D vector (one lane at a time), becomes
// ex2.approx.ftz.f32; f64 keeps libdevice, and so does code outside
// gpu.func.

gpu.module @kernels {
  // CHECK-LABEL: gpu.func @softmax_weights
  gpu.func @softmax_weights(%x: f32, %v: vector<2xf32>, %d: f64, %out: memref<4xf32>, %out64: memref<1xf64>) kernel {
    // CHECK: llvm.inline_asm asm_dialect = att "ex2.approx.ftz.f32 $0, $1;", "=f,f" %{{.*}} : (f32) -> f32
    // CHECK: vector.extract %{{.*}}[0] : f32 from vector<2xf32>
    // CHECK: llvm.inline_asm asm_dialect = att "ex2.approx.ftz.f32 $0, $1;", "=f,f"
    // CHECK: vector.extract %{{.*}}[1] : f32 from vector<2xf32>
    // CHECK: llvm.inline_asm asm_dialect = att "ex2.approx.ftz.f32 $0, $1;", "=f,f"
    // CHECK-NOT: math.exp2 {{.*}} : f32
    // CHECK-NOT: math.exp2 {{.*}} : vector<2xf32>
    // CHECK: math.exp2 %{{.*}} : f64
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %e = math.exp2 %x : f32
    %ev = math.exp2 %v : vector<2xf32>
    %ed = math.exp2 %d : f64
    memref.store %e, %out[%c0] : memref<4xf32>
    %l = vector.extract %ev[1] : f32 from vector<2xf32>
    memref.store %l, %out[%c1] : memref<4xf32>
    memref.store %ed, %out64[%c0] : memref<1xf64>
    gpu.return
  }
}

// CHECK-LABEL: func.func @host
// CHECK: math.exp2 %{{.*}} : f32
func.func @host(%x: f32) -> f32 {
  %e = math.exp2 %x : f32
  return %e : f32
}
