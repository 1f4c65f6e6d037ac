//===- Passes.td - Target-independent Prism passes ---------*- tablegen -*-===//

#ifndef PRISM_PASSES_TD
#define PRISM_PASSES_TD

include "mlir/Pass/PassBase.td"

def Kernelize : Pass<"prism-kernelize", "mlir::ModuleOp"> {
  let summary = "Turn every prism op into a tile kernel plus a launch plan";
  let description = [{
    For every function of prism ops, builds one tile kernel per op from the
    kernel library (passes/KernelLibrary), and records on the function a
    `prism.plan`: the buffers (inputs, temporaries, and views of them), the
    launches (kernel, grid as a function of the input sizes, buffer
    arguments) and the outputs. The function itself is kept, unchanged: it is
    what the float64 reference evaluates.

    `reshape` and `transpose` are views (no kernel, no copy) when their
    source allows it; broadcasting operands are stride-0 views. Tile sizes
    are options, chosen by the target backend.

    ```mlir
    func.func @f(%x: tensor<?x64xf32>, %w: tensor<64xf32>) -> tensor<?x64xf32> {
      %y = prism.rms_norm %x, %w : tensor<?x64xf32>, tensor<64xf32>
      return %y : tensor<?x64xf32>
    }
    // becomes the same function with a `prism.plan` attribute (one launch
    // of @f__0_rms_norm over buffers 0, 1, 2; output buffer 2) and a kernel
    func.func @f__0_rms_norm(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>, ...)
        attributes {tile.kernel} { ... }
    ```
  }];
  let options = [
    Option<"elementwiseBlock", "elementwise-block", "int64_t", "256",
           "Elements of the last dimension per elementwise program">,
    Option<"rowBlock", "row-block", "int64_t", "256",
           "Chunk of a row processed at once by norms and softmax">,
    Option<"matmulM", "matmul-m", "int64_t", "8", "Matmul tile rows">,
    Option<"matmulN", "matmul-n", "int64_t", "64", "Matmul tile columns">,
    Option<"matmulK", "matmul-k", "int64_t", "16", "Matmul K step">,
    Option<"attentionM", "attention-m", "int64_t", "16",
           "Queries per attention program">,
    Option<"attentionN", "attention-n", "int64_t", "32",
           "Keys per step of attention's online softmax">,
    Option<"stridedBlock", "strided-block", "int64_t", "256",
           "Chunk of a row whose innermost stride is not 1">,
    Option<"separateMatmulEpilogue", "separate-matmul-epilogue", "bool", "false",
           "Matmuls with a bias or a non-f32 result write the f32 product to "
           "a temporary and an elementwise kernel applies the epilogue (for "
           "targets whose matrix unit cannot run vector code: Ascend's cube)">,
    Option<"unfusedAttention", "unfused-attention", "bool", "false",
           "Attention as matmul, softmax, matmul through temporaries instead "
           "of one flash-attention kernel">,
  ];
  let dependentDialects = ["prism::tile::TileDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::func::FuncDialect"];
}

#endif // PRISM_PASSES_TD
