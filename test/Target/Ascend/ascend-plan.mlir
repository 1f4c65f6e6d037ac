// RUN: prism-opt %s -prism-ascend-plan -split-input-file -verify-diagnostics -o /dev/null | FileCheck %s --check-prefix=PLAN
// RUN: prism-opt %s -prism-ascend-plan="emit=source" -split-input-file -verify-diagnostics -o /dev/null | FileCheck %s --check-prefix=SRC

// A row kernel: copy-in through a VECIN queue of depth 2, a row sum on the
// vector unit read back by the scalar unit (V->S sync) and broadcast, and
// copy-out through a VECOUT queue. Every buffer is 32-byte aligned UB.
// PLAN-LABEL: ascend.kernel @rows chip 910b blocks <= 48
// PLAN-NEXT: stages: copy_in compute copy_out
// PLAN-NEXT: ub: {{[0-9]+}} + 0 reserved of 196608 bytes
// PLAN: buffer in{{[0-9]+}} UB VECIN 2 x 1024 bytes : 1x256xf32
// PLAN: buffer out{{[0-9]+}} UB VECOUT 2 x 1024 bytes : 1x256xf32
//
// SRC: #include "kernel_operator.h"
// SRC-LABEL: class rows_kernel {
// SRC: pipe.InitBuffer(in{{[0-9]+}}, 2, 1024);
// SRC: for (int64_t p = GetBlockIdx(); p < programs; p += GetBlockNum())
// SRC: LocalTensor<float> in = in{{[0-9]+}}.AllocTensor<float>();
// SRC: DataCopyPad(in[{{.*}}], gm0[{{.*}}], DataCopyExtParams{1, static_cast<uint32_t>({{.*}} * 4), 0, 0, 0}, DataCopyPadExtParams<float>{true, 0, prism_right_padding(
// SRC: .EnQue(in);
// SRC: .DeQue<float>();
// SRC: ReduceSum(
// SRC: PRISM_SYNC(V_S);
// SRC: Duplicate({{.*}}GetValue(0)), 256);
// SRC: Mul(
// SRC: LocalTensor<float> out = out{{[0-9]+}}.AllocTensor<float>();
// SRC: DataCopyPad(gm1[{{.*}}], out[{{.*}}], DataCopyExtParams{1,
// SRC: .FreeTensor(out);
// SRC: TQue<QuePosition::VECIN, 1> in{{[0-9]+}};
// SRC: TBuf<TPosition::VECCALC> calc{{[0-9]+}};
// SRC: extern "C" __global__ __aicore__ void rows(GM_ADDR a0, GM_ADDR a1, GM_ADDR tiling) {
func.func @rows(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %pid = tile.program_id x
  %t = tile.load %x[%pid, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<1x256xf32>
  %r = tile.reshape %t : tensor<1x256xf32> -> tensor<256xf32>
  %s = tile.reduce sum %r axis = 0 : tensor<256xf32> -> tensor<f32>
  %b = tile.broadcast %s : tensor<f32> -> tensor<256xf32>
  %m = arith.mulf %r, %b : tensor<256xf32>
  %o = tile.reshape %m : tensor<256xf32> -> tensor<1x256xf32>
  tile.store %o, %y[%pid, %c0] : tensor<1x256xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A masked tail (as softmax writes it): index tiles, a comparison into a
// bit mask and a select, padded to whole 256-byte repeats.
// PLAN-LABEL: ascend.kernel @tail
// PLAN: ub: {{[0-9]+}} + 8192 reserved of 196608 bytes
// PLAN: buffer calc{{[0-9]+}} UB VECCALC 1 x 256 bytes : 64xindex
// PLAN: buffer calc{{[0-9]+}} UB VECCALC 1 x 32 bytes : 64xi1
// SRC-LABEL: class tail_kernel {
// SRC: CreateVecIndex({{.*}}, 0.0f, 64);
// SRC: Compare({{.*}}, CMPMODE::LT, 64);
// SRC: Select({{.*}}, SELMODE::VSEL_TENSOR_TENSOR_MODE, 64);
func.func @tail(%x: memref<?xf32, strided<[1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32, strided<[1], offset: ?>>
  %t = tile.load %x[%c0] : memref<?xf32, strided<[1], offset: ?>> -> tensor<64xf32>
  %i = tile.iota : tensor<64xindex>
  %ns = tile.splat %n : tensor<64xindex>
  %in = arith.cmpi ult, %i, %ns : tensor<64xindex>
  %ninf = arith.constant 0xFF800000 : f32
  %fill = tile.splat %ninf : tensor<64xf32>
  %sel = arith.select %in, %t, %fill : tensor<64xi1>, tensor<64xf32>
  tile.store %sel, %x[%c0] : tensor<64xf32>, memref<?xf32, strided<[1], offset: ?>>
  return
}

// -----

// The static checker: a tile whose buffers (times their queue depth) do
// not fit the 910B's 192 KB UB is rejected, naming the largest buffer.
func.func @too_big(%x: memref<?xf32, strided<[1], offset: ?>>) attributes {tile.kernel} {
  // expected-error @-1 {{Ascend kernel 'too_big' needs 1310720 bytes of UB (0 kept free for the API's temporaries) but the 910b has 196608 per core (3 buffers; the largest, in1 (VECIN, 65536xf32), takes 2 x 262144 bytes)}}
  %c0 = arith.constant 0 : index
  %t = tile.load %x[%c0] : memref<?xf32, strided<[1], offset: ?>> -> tensor<65536xf32>
  tile.store %t, %x[%c0] : tensor<65536xf32>, memref<?xf32, strided<[1], offset: ?>>
  return
}

// -----

// A dot outside the matmul kernel's shape (one dot accumulated over a K
// loop) cannot run on the cube unit.
func.func @dot(%a: memref<?x?xf16, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0, %c0] : memref<?x?xf16, strided<[?, 1], offset: ?>> -> tensor<16x16xf16>
  %z = arith.constant 0.0 : f32
  %acc = tile.splat %z : tensor<16x16xf32>
  // expected-error @+1 {{cannot emit Ascend C: 'tile.dot' is not supported by the Ascend backend yet (the cube unit runs the library's matmul kernels (one dot accumulated over a K loop); the fused attention kernel needs kernelization with unfused-attention)}}
  %r = tile.dot %x, %x, %acc : tensor<16x16xf16>, tensor<16x16xf16> -> tensor<16x16xf32>
  return
}

// -----

// A matmul whose product goes straight to an f32 argument runs on the cube
// unit: A and B through L1 (ND -> NZ) into L0A / L0B, Mmad accumulating in
// L0C over the K loop (the first step starts from zero), the fixpipe
// writing the valid rows and columns back as ND.
// PLAN-LABEL: ascend.kernel @cube chip 910b blocks <= 24 (AI cores: cube
// PLAN-NEXT: stages: copy_in compute copy_out
// PLAN-NEXT: l1: 6144 of 524288, l0a: 2048 of 65536, l0b: 4096 of 65536, l0c: 2048 of 131072 bytes
// PLAN: buffer l1a{{[0-9]+}} L1 A1 2 x 1024 bytes : 16x32xf16
// PLAN: buffer l0a{{[0-9]+}} L0A A2 2 x 1024 bytes : 16x32xf16
// PLAN: buffer l0c{{[0-9]+}} L0C CO1 1 x 2048 bytes : 16x32xf32
// SRC-LABEL: class cube_kernel {
// SRC: LocalTensor<float> acc = l0c{{[0-9]+}}.AllocTensor<float>();
// SRC: Nd2NzParams p;
// SRC: p.dstNzC0Stride = mb * 16;
// SRC: DataCopy(a1, gm0[
// SRC: LoadData(a2[i * kb * 256], a1[i * 256], p);
// SRC: B stored [N, K]
// SRC: LoadData(b2[i * nb * 256], b1[i * nb * 256], p);
// SRC: p.cmatrixInitVal = iv{{[0-9]+}} == s{{[0-9]+}};
// SRC: Mmad(acc, a2, b2, p);
// SRC: Fixpipe<float, float, CFG_ROW_MAJOR>(gm2[
// SRC: TQue<QuePosition::A1, 1>
// SRC: TQue<QuePosition::CO1, 1>
// SRC: extern "C" __cube__ __global__ __aicore__ void cube(
func.func @cube(%a: memref<?x?xf16, strided<[?, 1], offset: ?>>, %b: memref<?x?xf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %pid = tile.program_id x
  %m0 = arith.muli %pid, %c16 : index
  %k = memref.dim %a, %c1 : memref<?x?xf16, strided<[?, 1], offset: ?>>
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<16x32xf32>
  %r = scf.for %k0 = %c0 to %k step %c32 iter_args(%acc = %init) -> (tensor<16x32xf32>) {
    %x = tile.load %a[%m0, %k0] : memref<?x?xf16, strided<[?, 1], offset: ?>> -> tensor<16x32xf16>
    %y = tile.load %b[%c0, %k0] : memref<?x?xf16, strided<[?, 1], offset: ?>> -> tensor<32x32xf16>
    %yt = tile.transpose %y perm = [1, 0] : tensor<32x32xf16> -> tensor<32x32xf16>
    %d = tile.dot %x, %yt, %acc : tensor<16x32xf16>, tensor<32x32xf16> -> tensor<16x32xf32>
    scf.yield %d : tensor<16x32xf32>
  }
  tile.store %r, %c[%m0, %c0] : tensor<16x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
