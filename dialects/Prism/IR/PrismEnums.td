//===- PrismEnums.td - Enumerations of the prism dialect ---*- tablegen -*-===//

#ifndef PRISM_ENUMS_TD
#define PRISM_ENUMS_TD

include "mlir/IR/EnumAttr.td"

def Prism_ReduceKind : I32EnumAttr<"ReduceKind", "reduction combiner", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Max", 1, "max">,
    I32EnumAttrCase<"Min", 2, "min">,
    I32EnumAttrCase<"Mean", 3, "mean">]> {
  let cppNamespace = "::prism";
}

def Prism_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how gelu evaluates the gaussian CDF", [
    I32EnumAttrCase<"Erf", 0, "erf">,
    I32EnumAttrCase<"Tanh", 1, "tanh">]> {
  let cppNamespace = "::prism";
}

def Prism_RopeStyle : I32EnumAttr<"RopeStyle",
    "which elements of head_dim are rotated together", [
    I32EnumAttrCase<"Neox", 0, "neox">,
    I32EnumAttrCase<"Interleaved", 1, "interleaved">]> {
  let cppNamespace = "::prism";
}

def Prism_RopeLayout : I32EnumAttr<"RopeLayout",
    "the order of the batch, sequence, head and head_dim dimensions", [
    I32EnumAttrCase<"BSHD", 0, "bshd">,
    I32EnumAttrCase<"BHSD", 1, "bhsd">]> {
  let cppNamespace = "::prism";
}

def Prism_FusionKind : I32EnumAttr<"FusionKind",
    "what one fused kernel computes", [
    I32EnumAttrCase<"Elementwise", 0, "elementwise">,
    I32EnumAttrCase<"Matmul", 1, "matmul">,
    I32EnumAttrCase<"GatedMatmul", 2, "gated_matmul">,
    I32EnumAttrCase<"Norm", 3, "norm">,
    I32EnumAttrCase<"MatmulRope", 4, "matmul_rope">]> {
  let cppNamespace = "::prism";
}

#endif // PRISM_ENUMS_TD
