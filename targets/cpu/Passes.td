//===- Passes.td - Passes of the CPU backend ---------------*- tablegen -*-===//

#ifndef PRISM_TARGETS_CPU_PASSES_TD
#define PRISM_TARGETS_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CpuLowerTileToVector : Pass<"prism-cpu-lower-tile-to-vector", "mlir::ModuleOp"> {
  let summary = "Lower tile kernels to the vector dialect for the host CPU";
  let description = [{
    Every tile of a `tile.kernel` function becomes an n-D vector held in
    registers (or spilled by LLVM), and the grid becomes arguments:

    * the kernel gets six trailing `index` arguments, the program id and the
      number of programs along x, y and z; `tile.program_id` and
      `tile.num_programs` read them (the runtime loops over the grid and
      spreads it over threads);
    * `tile.load` / `tile.store` on memrefs whose innermost stride is 1
      become `vector.transfer_read` / `vector.transfer_write` of blocks
      inside the memref, and a staged copy at its edges; other strides,
      masked stores and `tile.gather` become `vector.gather` /
      `vector.scatter` over a flat unit-stride view of the buffer, with the
      bounds folded into the mask; a row the kernel does not read back is
      stored non-temporally into a memref of 16 MiB or more (where aligned);
    * a `tile.dot` of at least 4096 multiply-adds into a float accumulator
      whose columns fill whole registers is a register-blocked micro-kernel
      over f32 stack buffers, its operands packed straight from memory
      where a `tile.load` reads them, its accumulator kept in its buffer
      across a K loop (`RegisterBlockedProducts.h`); smaller ones become
      `vector.contract` (inputs converted to the accumulator type);
    * the epilogue of a large tile (computed row by row from K-loop
      results) runs on chunks of rows (`EpilogueRows.h`);
    * `tile.reduce` `vector.multi_reduction`,
      `tile.broadcast` / `tile.splat` `vector.broadcast`, `tile.expand_dims`
      `vector.shape_cast`, `tile.iota` `vector.step`;
    * arith and math ops on tiles become the same ops on vectors, and scf
      loops carry vectors; `math.erf`, which LLVM cannot lower, becomes a
      polynomial;
    * memrefs of f16 / bf16 become memrefs of i16, loaded and stored as bits
      and bitcast in registers.

    ```mlir
    %t = tile.load %x[%i, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x128xf32>
    // becomes
    %t = vector.transfer_read %x[%i, %c0], %zero : memref<...>, vector<4x128xf32>
    ```
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "256",
           "Width of the vector registers products are blocked for (256: "
           "AVX2, 512: AVX-512)">,
    Option<"vectorRegisters", "vector-registers", "int64_t", "16",
           "Number of those registers (16: AVX2, 32: AVX-512)">,
  ];
  let dependentDialects = ["mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect"];
}

def CpuPackKernelArguments : Pass<"prism-cpu-pack-kernel-arguments", "mlir::ModuleOp"> {
  let summary = "Give every lowered kernel an entry point of one fixed signature";
  let description = [{
    After the lowering to the LLVM dialect, a kernel's parameters are its
    memref descriptors expanded into scalars (allocated pointer, aligned
    pointer, offset, sizes, strides) and its scalar arguments, followed by the
    six grid arguments. The runtime does not link LLVM and cannot call a
    function of arbitrary signature, so every kernel `@k` gets a wrapper

    ```
    void prism_kernel_k(void **args, i64 pid_x, i64 pid_y, i64 pid_z,
                        i64 num_x, i64 num_y, i64 num_z)
    ```

    where `args[i]` points to the value of the i-th non-grid parameter. The
    grid arguments are passed by value so that threads running different
    program instances share one `args` array.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // PRISM_TARGETS_CPU_PASSES_TD
