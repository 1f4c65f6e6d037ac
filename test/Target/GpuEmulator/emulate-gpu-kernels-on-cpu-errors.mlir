// RUN: prism-opt %s -split-input-file -verify-diagnostics -prism-emulate-gpu-kernels-on-cpu

// What the emulator does not model is an error naming the op.
module attributes {gpu.container_module} {
  gpu.module @prism_kernels {
    gpu.func @shuffle_idx(%x: memref<32xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      %c0 = arith.constant 0 : index
      %v = memref.load %x[%c0] : memref<32xf32>
      %o = arith.constant 1 : i32
      %w = arith.constant 32 : i32
      // expected-error @+1 {{the GPU emulator runs gpu.shuffle xor of 32-bit values over whole warps (width 32, a constant offset) only}}
      %s, %ok = gpu.shuffle idx %v, %o, %w : f32
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @prism_kernels {
    gpu.func @lane(%x: memref<32xindex>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      %c0 = arith.constant 0 : index
      // expected-error @+1 {{the GPU emulator cannot run 'gpu.lane_id'}}
      %l = gpu.lane_id
      memref.store %l, %x[%c0] : memref<32xindex>
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @prism_kernels {
    // expected-error @+1 {{cannot emulate a kernel without a known one-dimensional block size}}
    gpu.func @unknown_block(%x: memref<32xf32>) kernel {
      gpu.return
    }
  }
}

// -----

// Inline PTX other than the register-A wgmma the NVIDIA backend writes.
module attributes {gpu.container_module} {
  gpu.module @prism_kernels {
    gpu.func @inline_ptx(%x: memref<32xi32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      %c0 = arith.constant 0 : index
      // expected-error @+1 {{the GPU emulator runs no inline PTX but wgmma.mma_async m64nNk16 with A from registers (bf16 or f16 into f32): mov.u32 $0, %laneid;}}
      %l = llvm.inline_asm "mov.u32 $0, %laneid;", "=r" : () -> i32
      memref.store %l, %x[%c0] : memref<32xi32>
      gpu.return
    }
  }
}

// -----

// The register-A wgmma with a scale-d that is not a constant (0 or 1).
module attributes {gpu.container_module} {
  gpu.module @prism_kernels {
    gpu.func @wgmma_scale(%a: i32, %desc: i64, %d0: f32, %d1: f32, %d2: f32, %d3: f32, %scale: i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      // expected-error @+1 {{the GPU emulator runs register-A wgmma only as the NVIDIA backend writes it: D's N / 2 f32 registers tied, A in 4 i32, B's i64 descriptor, scale-d 0 or 1}}
      %r = llvm.inline_asm has_side_effects "{\0A.reg .pred p;\0Asetp.ne.b32 p, $13, 0;\0Awgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {$0, $1, $2, $3}, {$8, $9, $10, $11}, $12, p, 1, 1, 1;\0A}\0A", "=f,=f,=f,=f,0,1,2,3,r,r,r,r,l,n" %d0, %d1, %d2, %d3, %a, %a, %a, %a, %desc, %scale : (f32, f32, f32, f32, i32, i32, i32, i32, i64, i32) -> !llvm.struct<(f32, f32, f32, f32)>
      gpu.return
    }
  }
}

// -----

// The same instruction with an extra instruction in the text.
module attributes {gpu.container_module} {
  gpu.module @prism_kernels {
    gpu.func @wgmma_extra(%a: i32, %desc: i64, %d0: f32, %d1: f32, %d2: f32, %d3: f32) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %one = llvm.mlir.constant(1 : i32) : i32
      // expected-error @+1 {{the GPU emulator runs register-A wgmma only as the NVIDIA backend writes it}}
      %r = llvm.inline_asm has_side_effects "{\0A.reg .pred p;\0Asetp.ne.b32 p, $13, 0;\0Awgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {$0, $1, $2, $3}, {$8, $9, $10, $11}, $12, p, 1, 1, 1;\0Aadd.f32 $0, $0, $0;\0A}\0A", "=f,=f,=f,=f,0,1,2,3,r,r,r,r,l,n" %d0, %d1, %d2, %d3, %a, %a, %a, %a, %desc, %one : (f32, f32, f32, f32, i32, i32, i32, i32, i64, i32) -> !llvm.struct<(f32, f32, f32, f32)>
      gpu.return
    }
  }
}
