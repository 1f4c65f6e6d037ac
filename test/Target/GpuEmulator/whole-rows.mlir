// Norm and softmax rows whose static length is at most whole-row-max (4096
// on NVIDIA) are one chunk, read once and kept in registers between the
// reduction and the output; dynamic rows and longer ones go in chunks of
// row-block (512). Run under the GPU emulator and checked against float64:
// rows of a power of two, of a length that is not one (a masked tail), at
// the limit, and past it; layer_norm with and without weight and bias; the
// residual add fused into rms_norm, whose sum is stored too; softmax in f32
// and bf16, with a scale.

// RUN: prism-run %s --entry=rows --check --dynamic-size=5 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=rows --check --dynamic-size=3 --target=nvidia-emulated:sm_80 | FileCheck %s
// RUN: prism-run %s --entry=rows --check --dynamic-size=3 --target=nvidia-emulated:sm_90a --tile-sizes="whole-row-max=0" | FileCheck %s
// RUN: prism-run %s --entry=rows --check --dynamic-size=2 --target=nvidia-emulated:sm_90a --tile-sizes="whole-row-max=8192" | FileCheck %s
// RUN: prism-run %s --entry=long_rows --check --dynamic-size=2 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=dynamic_rows --check --dynamic-size=1000 --target=nvidia-emulated:sm_90a | FileCheck %s
// Row kernels hold runs of 8 contiguous elements per thread and move them
// as 16-byte vectors where the buffer allows (tested at run time): rows
// of 1000 in tiles of 1024 (runs past the row's end neither read nor
// written), rows of 1001 bf16 or 1003 f32 whose starts are not 16-byte
// multiples (element by element).
// RUN: prism-run %s --entry=odd_rows --check --dynamic-size=3 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=odd_rows --check --dynamic-size=2 --target=nvidia-emulated:sm_80 | FileCheck %s
// CHECK: PASS
// CHECK-NOT: FAIL

// The plan: rows of 1000 and of 8192 elements are whole chunks (1024 and
// 8192), rows of 8200 chunks of 512 (and so are dynamic rows: their
// softmax is long_rows' kernel); a whole row is read once (one load of
// each input per kernel).
// RUN: prism-opt %s -prism-optimize -prism-kernelize="row-block=512 whole-row-max=8192" | FileCheck %s --check-prefix=PLAN
// PLAN-LABEL: func.func @dynamic_rows(
// PLAN-SAME: kernel = @long_rows__1_softmax
// PLAN-LABEL: func.func @rows__0_add_rms_norm(
// PLAN-NOT: scf.for
// PLAN-COUNT-2: tile.load {{.*}} -> tensor<1x1024xbf16>
// PLAN-NOT: scf.for
// PLAN: tile.store {{.*}} : tensor<1x1024xbf16>
// PLAN-NOT: scf.for
// PLAN: tile.load {{.*}} -> tensor<1024xbf16>
// PLAN-NOT: tile.load
// PLAN: tile.store {{.*}} : tensor<1x1024xbf16>
// PLAN-LABEL: func.func @rows__1_layer_norm(
// PLAN-NOT: scf.for
// PLAN-LABEL: func.func @rows__2_layer_norm(
// PLAN-NOT: scf.for
// PLAN-LABEL: func.func @rows__3_softmax(
// PLAN: tile.load {{.*}} -> tensor<1x1024xbf16>
// PLAN-NOT: tile.load
// PLAN-NOT: scf.for
// PLAN: tile.store
// PLAN-LABEL: func.func @rows__4_softmax(
// PLAN-NOT: scf.for
// PLAN: tile.load {{.*}} -> tensor<1x8192xf32>
// PLAN-LABEL: func.func @long_rows__0_rms_norm(
// PLAN: scf.for
// PLAN: tile.load {{.*}} -> tensor<1x512xbf16>
// PLAN-LABEL: func.func @long_rows__1_softmax(
// PLAN: scf.for
// PLAN: tile.load {{.*}} -> tensor<1x512xbf16>
// RUN: not prism-opt %s -prism-kernelize="whole-row-max=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: whole-row-max must be 0 (rows in chunks) or at least 1, not -1

func.func @rows(%x: tensor<?x1000xbf16>, %r: tensor<?x1000xbf16>, %w: tensor<1000xbf16>,
                %b: tensor<1000xbf16>, %f: tensor<?x8192xf32>)
    -> (tensor<?x1000xbf16>, tensor<?x1000xbf16>, tensor<?x1000xbf16>,
        tensor<?x1000xbf16>, tensor<?x1000xbf16>, tensor<?x8192xf32>) {
  %sum = prism.add %x, %r : tensor<?x1000xbf16>, tensor<?x1000xbf16>
  %n = prism.rms_norm %sum, %w eps = 1.0e-5 : tensor<?x1000xbf16>, tensor<1000xbf16>
  %l = prism.layer_norm %x weight(%w : tensor<1000xbf16>) bias(%b : tensor<1000xbf16>) eps = 1.0e-5 : tensor<?x1000xbf16>
  %plain = prism.layer_norm %r eps = 1.0e-5 : tensor<?x1000xbf16>
  %s = prism.softmax %x axis = 1 scale = 0.125 : tensor<?x1000xbf16>
  %sf = prism.softmax %f axis = 1 : tensor<?x8192xf32>
  return %sum, %n, %l, %plain, %s, %sf : tensor<?x1000xbf16>, tensor<?x1000xbf16>, tensor<?x1000xbf16>, tensor<?x1000xbf16>, tensor<?x1000xbf16>, tensor<?x8192xf32>
}

func.func @long_rows(%x: tensor<?x8200xbf16>, %w: tensor<8200xbf16>) -> (tensor<?x8200xbf16>, tensor<?x8200xbf16>) {
  %n = prism.rms_norm %x, %w eps = 1.0e-5 : tensor<?x8200xbf16>, tensor<8200xbf16>
  %s = prism.softmax %x axis = 1 : tensor<?x8200xbf16>
  return %n, %s : tensor<?x8200xbf16>, tensor<?x8200xbf16>
}

func.func @dynamic_rows(%x: tensor<3x?xbf16>) -> tensor<3x?xbf16> {
  %s = prism.softmax %x axis = 1 : tensor<3x?xbf16>
  return %s : tensor<3x?xbf16>
}

func.func @odd_rows(%x: tensor<?x1001xbf16>, %r: tensor<?x1001xbf16>, %w: tensor<1001xbf16>,
                    %f: tensor<?x1003xf32>) -> (tensor<?x1001xbf16>, tensor<?x1001xbf16>, tensor<?x1003xf32>) {
  %sum = prism.add %x, %r : tensor<?x1001xbf16>, tensor<?x1001xbf16>
  %n = prism.rms_norm %sum, %w eps = 1.0e-5 : tensor<?x1001xbf16>, tensor<1001xbf16>
  %sf = prism.softmax %f axis = 1 : tensor<?x1003xf32>
  return %sum, %n, %sf : tensor<?x1001xbf16>, tensor<?x1001xbf16>, tensor<?x1003xf32>
}
