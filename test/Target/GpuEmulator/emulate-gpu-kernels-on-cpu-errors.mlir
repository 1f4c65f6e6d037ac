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
