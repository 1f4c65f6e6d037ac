//===- TileDialect.td - SPMD tile programs -----------------*- tablegen -*-===//

#ifndef PRISM_TILE_DIALECT_TD
#define PRISM_TILE_DIALECT_TD

include "mlir/IR/OpBase.td"

def Tile_Dialect : Dialect {
  let name = "tile";
  let cppNamespace = "::prism::tile";
  let summary = "SPMD tile programs: the target-independent kernel language";
  let description = [{
    A tile kernel is a `func.func` marked `tile.kernel`. It is run once per
    program instance over a grid of 1 to 3 dimensions; `tile.program_id` and
    `tile.num_programs` tell an instance where it is. The kernel's arguments
    are strided memrefs (global memory, with dynamic sizes and strides, so
    that views need no copy) and scalars (runtime sizes, scalars of the op).

    Values inside a kernel are scalars and *tiles*: ranked tensors of static
    shape, held by the program instance as a whole (how a tile is spread over
    threads, lanes or vector registers is the backend's choice). Elementwise
    math on tiles is plain `arith` / `math` on tensors; loops over K or
    sequence blocks are `scf.for` with tiles as loop-carried values.

    Memory is touched only through `tile.load`, `tile.store` and
    `tile.gather`, which are bounds-checked: an element outside the memref
    reads the padding value and is never written. This is how one compiled
    kernel serves every size of a dynamic dimension: the tails of the grid
    are masked, not special-cased.

    The kernel library (passes/) writes every prism op once in this dialect;
    tile sizes are attributes of the kernel that each target chooses.
  }];
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The unit attribute that marks a func.func as a tile kernel.
    static constexpr ::llvm::StringLiteral getKernelAttrName() {
      return "tile.kernel";
    }
    /// On a kernel: the stages of its K loops' operand pipelines (an
    /// integer, at least 2), for targets that stage dot operands; without
    /// it the target chooses (Triton's num_stages).
    static constexpr ::llvm::StringLiteral getPipelineStagesAttrName() {
      return "tile.pipeline_stages";
    }
    /// On a kernel: the groups of matrix-core products a K loop step may
    /// leave running (an integer, 0 or 1); without it the target chooses.
    static constexpr ::llvm::StringLiteral getDotsInFlightAttrName() {
      return "tile.dots_in_flight";
    }
    /// On a kernel: whether its K loop's operands are copied by a producer
    /// warpgroup of their own (1; 2: and the consumer warpgroups take turns
    /// at the matrix cores) or by the threads that compute (0), for
    /// targets with tensor copies; without it the target chooses.
    static constexpr ::llvm::StringLiteral getWarpSpecializeAttrName() {
      return "tile.warp_specialize";
    }
  }];
}

#endif // PRISM_TILE_DIALECT_TD
