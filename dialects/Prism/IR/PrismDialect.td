//===- PrismDialect.td - The prism graph-level dialect -----*- tablegen -*-===//
//
// The graph level of Prism: transformer operators on ranked tensors. Every op
// here is target independent; kernelization turns each op (or fused group of
// ops) into a tile kernel from the kernel library.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECT_TD
#define PRISM_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Prism_Dialect : Dialect {
  let name = "prism";
  let cppNamespace = "::prism";
  let summary = "Transformer operators on ranked tensors";
  let description = [{
    The `prism` dialect is the graph level of the Prism compiler. Its ops are
    the operators transformer models are made of (matmul, attention,
    normalizations, rotary embeddings, activations, softmax, ...), on ranked
    tensors with static or dynamic (`?`) dimensions.

    Element types: `f32`, `f16` and `bf16` everywhere; `i8` and `f8E4M3FN`
    where an op says so (`cast`, and the right-hand operand of `matmul` for
    weight-only quantized models). Indices (`embedding`, `rope` positions) are
    `i32` or `i64`.

    Numerics common to all ops, unless an op says otherwise:

    * Reductions (softmax, norms, `reduce`) and the accumulation of `matmul`
      and `attention` are carried out in at least f32, whatever the element
      type; results are rounded once, to the result element type, with
      round-to-nearest-even.
    * Elementwise ops on f16/bf16 compute in f32 and round the result.
    * Every backend's result is checked against a float64 evaluation of
      these semantics with a per-dtype relative L2 tolerance.

    Broadcasting follows numpy: shapes are aligned from the right, and a
    dimension of size 1 stretches to the other operand's size. Statically:
    a static 1 takes the other dimension; a dynamic dimension against a
    static `n > 1` gives `n` (at run time it must be `n` or 1); two dynamic
    dimensions give a dynamic one (at run time equal, or one of them 1).
    Static sizes that differ and are both > 1 are rejected.
  }];
  let useDefaultAttributePrinterParser = 0;
  let hasConstantMaterializer = 0;
  let extraClassDeclaration = [{
    void registerOps();
  }];
}

#endif // PRISM_DIALECT_TD
