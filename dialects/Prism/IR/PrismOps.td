//===- PrismOps.td - Operations of the prism dialect -------*- tablegen -*-===//
//
// Every op states its exact semantics in its description, including the
// numerics; that text is the contract the kernel library and the float64
// reference evaluator both implement.
//
// Type checking lives in each op's `inferReturnTypes` (InferTypeOpAdaptor), so
// that the custom assembly format never needs result types and the very same
// diagnostics are produced while parsing, while building from C++ or Python,
// and while verifying.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_OPS_TD
#define PRISM_OPS_TD

include "dialects/Prism/IR/PrismDialect.td"
include "dialects/Prism/IR/PrismEnums.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Prism_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Prism_QuantizedOrFloatTensor
    : RankedTensorOf<[F32, F16, BF16, I8, F8E4M3FN]>;
def Prism_IndexTensor : RankedTensorOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

class Prism_Op<string mnemonic, list<Trait> traits = []>
    : Op<Prism_Dialect, mnemonic, traits>;

// An op whose result type is computed by a C++ function from its operands and
// attributes; that function is also where every type check lives.
class Prism_InferredOp<string mnemonic, list<Trait> traits = []>
    : Prism_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor], traits)>;

//===----------------------------------------------------------------------===//
// Elementwise binary ops (numpy broadcasting)
//===----------------------------------------------------------------------===//

class Prism_BinaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Prism_InferredOp<mnemonic, traits> {
  let summary = "elementwise " # mnemonic # " with broadcasting";
  let description = [{
    Computes `}] # formula # [{` elementwise. `lhs` and `rhs` must have the
    same element type (f32, f16 or bf16); their shapes broadcast numpy-style
    and the result has the broadcast shape. On f16/bf16 the operation is
    evaluated in f32 and rounded once to the element type.

    ```mlir
    %0 = prism.}] # mnemonic # [{ %x, %bias : tensor<4x?x64xbf16>, tensor<64xbf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$lhs, Prism_FloatTensor:$rhs);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &results) {
      return ::prism::inferBroadcastBinaryOp(location, getOperationName(),
          adaptor.getLhs().getType(), adaptor.getRhs().getType(), results);
    }
  }];
}

def Prism_AddOp : Prism_BinaryOp<"add", "lhs + rhs", [Commutative]> {
  let hasFolder = 1;
}
def Prism_SubOp : Prism_BinaryOp<"sub", "lhs - rhs"> {
  let hasFolder = 1;
}
def Prism_MulOp : Prism_BinaryOp<"mul", "lhs * rhs", [Commutative]> {
  let hasFolder = 1;
}
def Prism_DivOp : Prism_BinaryOp<"div", "lhs / rhs (IEEE division)"> {
  let hasFolder = 1;
}
def Prism_MaxOp : Prism_BinaryOp<"max",
    "maximum(lhs, rhs), NaN if either is NaN", [Commutative]> {
  let hasFolder = 1;
}
def Prism_MinOp : Prism_BinaryOp<"min",
    "minimum(lhs, rhs), NaN if either is NaN", [Commutative]> {
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops and activations
//===----------------------------------------------------------------------===//

class Prism_UnaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Prism_InferredOp<mnemonic, traits> {
  let summary = "elementwise " # mnemonic;
  let description = [{
    Computes `}] # formula # [{` elementwise. The result has the type of the
    input (f32, f16 or bf16); f16/bf16 inputs are evaluated in f32 and the
    result is rounded once.

    ```mlir
    %0 = prism.}] # mnemonic # [{ %x : tensor<2x?x128xf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$input);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &results) {
      return ::prism::inferElementwiseUnaryOp(location, getOperationName(),
          adaptor.getInput().getType(), results);
    }
  }];
}

def Prism_ExpOp : Prism_UnaryOp<"exp", "e^x">;
def Prism_LogOp : Prism_UnaryOp<"log", "ln(x)">;
def Prism_SqrtOp : Prism_UnaryOp<"sqrt", "sqrt(x)">;
def Prism_RsqrtOp : Prism_UnaryOp<"rsqrt", "1 / sqrt(x)">;
def Prism_NegOp : Prism_UnaryOp<"neg", "-x"> { let hasFolder = 1; }
def Prism_AbsOp : Prism_UnaryOp<"abs", "|x|"> { let hasFolder = 1; }
def Prism_TanhOp : Prism_UnaryOp<"tanh", "tanh(x)">;
def Prism_SigmoidOp : Prism_UnaryOp<"sigmoid", "1 / (1 + e^-x)">;
def Prism_ReluOp : Prism_UnaryOp<"relu", "max(x, 0)"> { let hasFolder = 1; }
def Prism_SiluOp : Prism_UnaryOp<"silu", "x * sigmoid(x) = x / (1 + e^-x)">;

def Prism_GeluOp : Prism_InferredOp<"gelu"> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `approximate = erf` (the default) computes the exact
    `0.5 * x * (1 + erf(x / sqrt(2)))`; `approximate = tanh` computes
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`, the form
    GPT-2 and PyTorch's `gelu(approximate="tanh")` use. Evaluated in f32 for
    f16/bf16 inputs.

    ```mlir
    %0 = prism.gelu %x approximate = tanh : tensor<8x3072xbf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$input,
      DefaultValuedAttr<Prism_GeluApproximation,
                        "::prism::GeluApproximation::Erf">:$approximate);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`approximate` `=` $approximate^)? attr-dict `:` type($input)
  }];
}

def Prism_SwigluOp : Prism_InferredOp<"swiglu", [AllTypesMatch<["gate", "up"]>]> {
  let summary = "fused SwiGLU gate: silu(gate) * up";
  let description = [{
    Computes `silu(gate) * up` elementwise, the gate of the SwiGLU MLP
    (`down(silu(x W_gate) * (x W_up))`). `gate` and `up` must have the same
    type; no broadcasting. Evaluated in f32 and rounded once.

    ```mlir
    %h = prism.swiglu %gate, %up : tensor<?x14336xbf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$gate, Prism_FloatTensor:$up);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($gate)";
}

//===----------------------------------------------------------------------===//
// Softmax, reductions and normalizations
//===----------------------------------------------------------------------===//

def Prism_SoftmaxOp : Prism_InferredOp<"softmax"> {
  let summary = "numerically safe softmax along one axis";
  let description = [{
    With `s = scale * x`, computes along `axis`
    `exp(s - max(s)) / sum(exp(s - max(s)))`: the maximum is subtracted
    before exponentiation so that no input overflows. The max, the
    exponentials and the sum are evaluated in f32 whatever the element type;
    the result is rounded once. `axis` may be negative (counted from the
    end); canonicalization makes it non-negative. `scale` defaults to 1.

    ```mlir
    %p = prism.softmax %logits axis = -1 scale = 0.125 : tensor<2x8x?x?xf32>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F64Attr, "1.0">:$scale);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`axis` `=` $axis^)? (`scale` `=` $scale^)? attr-dict
    `:` type($input)
  }];
  let hasFolder = 1;
}

def Prism_ReduceOp : Prism_InferredOp<"reduce"> {
  let summary = "sum, max, min or mean over a set of axes";
  let description = [{
    Reduces `input` over `axes` (distinct, in `[-rank, rank)`; negative axes
    count from the end) with `kind`:

    * `sum`: accumulated in f32 (pairwise order is allowed: the kernel
      library reduces a tile, then combines tiles, so results may differ from
      a sequential sum by rounding only);
    * `max`, `min`: exact; NaN propagates;
    * `mean`: the f32 sum divided by the number of reduced elements.

    With `keepdims` the reduced axes stay as size-1 dimensions; without it
    they are removed. Reducing over axes that are all of static size 1 is the
    identity (with `keepdims`) or a reshape (without), and canonicalizes so.

    ```mlir
    %m = prism.reduce mean %x axes = [-1] keepdims : tensor<4x?x4096xbf16>
    ```
  }];
  let arguments = (ins Prism_ReduceKind:$kind, Prism_FloatTensor:$input,
                       DenseI64ArrayAttr:$axes, UnitAttr:$keepdims);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input `axes` `=` $axes (`keepdims` $keepdims^)? attr-dict
    `:` type($input)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Prism_RmsNormOp : Prism_InferredOp<"rms_norm"> {
  let summary = "root-mean-square normalization over the last axis";
  let description = [{
    For every row `x` along the last axis (of size `D`):
    `y = x * rsqrt(sum(x^2) / D + eps) * weight`. The sum of squares is
    accumulated in f32 (also for f32 inputs the kernel library uses f32, so
    rows of millions of elements lose some precision); `x` is promoted to f32,
    normalized, multiplied by `weight` in f32, and rounded once to the input
    element type. This matches Llama's `RMSNorm` with an f32 upcast.

    `weight` has shape `[D]` and the input's element type or f32 (many
    checkpoints keep norm weights in f32). `eps` defaults to 1e-6.

    ```mlir
    %y = prism.rms_norm %x, %w eps = 1.0e-05 : tensor<1x?x4096xbf16>, tensor<4096xbf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$input, Prism_FloatTensor:$weight,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`eps` `=` $epsilon^)? attr-dict
    `:` type($input) `,` type($weight)
  }];
}

def Prism_LayerNormOp : Prism_InferredOp<"layer_norm",
    [AttrSizedOperandSegments]> {
  let summary = "layer normalization over the last axis";
  let description = [{
    For every row `x` along the last axis (of size `D`), in f32:
    `mean = sum(x) / D`, `var = sum((x - mean)^2) / D` (the biased variance,
    as PyTorch's `LayerNorm`), `y = (x - mean) * rsqrt(var + eps)`, then
    `y * weight` if `weight` is given and `+ bias` if `bias` is given, rounded
    once to the input element type. `weight` and `bias` have shape `[D]` and
    the input's element type or f32. `eps` defaults to 1e-5.

    ```mlir
    %y = prism.layer_norm %x weight(%w : tensor<768xf32>) bias(%b : tensor<768xf32>)
           eps = 1.0e-05 : tensor<?x768xf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$input,
                       Optional<Prism_FloatTensor>:$weight,
                       Optional<Prism_FloatTensor>:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`weight` `(` $weight^ `:` type($weight) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`eps` `=` $epsilon^)? attr-dict `:` type($input)
  }];
}

//===----------------------------------------------------------------------===//
// Matmul, attention, rotary embedding, embedding lookup
//===----------------------------------------------------------------------===//

def Prism_MatmulOp : Prism_InferredOp<"matmul"> {
  let summary = "batched matrix product with broadcast batch dimensions";
  let description = [{
    `lhs` is `[..., M, K]` (`[..., K, M]` with `transpose_lhs`) and `rhs` is
    `[..., K, N]` (`[..., N, K]` with `transpose_rhs`, the layout of a
    PyTorch `Linear` weight). Both have rank >= 2; their leading (batch)
    dimensions broadcast numpy-style. The result is `[batch..., M, N]` with
    the element type of `lhs`:

    `result[b, m, n] = round(sum_k lhs[b, m, k] * rhs[b, k, n] + bias[n])`

    where products and the sum are accumulated in `acc` (default f32; it may
    be f16 only for f16 inputs, and is never narrower than f16) and rounded
    once at the end. The order of the sum over `K` is unspecified (blocked).

    `lhs` is f32, f16 or bf16. `rhs` has the element type of `lhs`, or is
    `i8` / `f8E4M3FN` for weight-only quantized models: each weight is then
    converted exactly to the accumulation type (no scale is implied; a scale
    is a separate `prism.mul`, which fusion folds into the epilogue).

    The optional `bias` has shape `[N]` and the result's element type or
    f32; it is added in the accumulation type before rounding.

    ```mlir
    %y = prism.matmul %x, %w transpose_rhs : tensor<?x4096xbf16>, tensor<14336x4096xbf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$lhs,
                       Prism_QuantizedOrFloatTensor:$rhs,
                       Optional<Prism_FloatTensor>:$bias,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs,
                       OptionalAttr<TypeAttr>:$acc);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`transpose_lhs` $transpose_lhs^)? (`transpose_rhs` $transpose_rhs^)?
    (`acc` `(` $acc^ `)`)? attr-dict `:` type($lhs) `,` type($rhs)
  }];
  let extraClassDeclaration = [{
    /// The accumulation type: the `acc` attribute, f32 when it is absent.
    ::mlir::FloatType getAccumulatorType();
  }];
}

def Prism_AttentionOp : Prism_InferredOp<"attention"> {
  let summary = "scaled dot-product attention with grouped-query heads";
  let description = [{
    `query` is `[B, Hq, Sq, D]`, `key` is `[B, Hkv, Skv, D]`, `value` is
    `[B, Hkv, Skv, Dv]`; all three have the same element type and `Hq` is a
    multiple of `Hkv` (query head `h` reads key/value head
    `h / (Hq / Hkv)`: grouped-query attention; `Hkv = Hq` is multi-head and
    `Hkv = 1` multi-query). The result is `[B, Hq, Sq, Dv]`:

    ```
    s[i, j] = scale * dot(query[i], key[j]) + mask[i, j]     (in f32)
    p[i, :] = softmax(s[i, :])                                (max-subtracted)
    out[i]  = sum_j p[i, j] * value[j]                        (in f32)
    ```

    `scale` defaults to `1 / sqrt(D)`. The optional additive `mask` has the
    query's element type or f32 and a shape that broadcasts to
    `[B, Hq, Sq, Skv]`; `-inf` entries exclude a key.

    With `causal`, query `i` sits at absolute position `i + Skv - Sq`
    (bottom-right alignment: the queries are the last `Sq` positions, as in
    decoding with a KV cache) and sees key `j` only when
    `j <= i + Skv - Sq`. `window = W` (which requires `causal`) further
    restricts it to the `W` most recent keys: `j > i + Skv - Sq - W`.
    A query that sees no key at all produces zeros.

    ```mlir
    %o = prism.attention %q, %k, %v causal : tensor<1x32x?x128xbf16>,
           tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$query, Prism_FloatTensor:$key,
                       Prism_FloatTensor:$value,
                       Optional<Prism_FloatTensor>:$mask,
                       UnitAttr:$causal, OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<I64Attr>:$window);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`causal` $causal^)? (`scale` `=` $scale^)? (`window` `=` $window^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
  }];
  let extraClassDeclaration = [{
    /// The softmax scale: the `scale` attribute, 1/sqrt(head_dim) when absent.
    /// Returns std::nullopt when head_dim is dynamic and no scale is given.
    std::optional<double> getEffectiveScale();
  }];
}

def Prism_RopeOp : Prism_InferredOp<"rope", [AttrSizedOperandSegments]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates pairs of elements of each head vector of `input` by an angle that
    depends on the token's position. `input` is rank 4, laid out as
    `layout = bshd` (`[B, S, H, D]`, as it comes out of a projection) or
    `bhsd` (`[B, H, S, D]`); `D` is even. `positions` is `[B, S]` or `[S]`
    (shared by the batch), `i32` or `i64`.

    For `i` in `[0, D/2)` the angle is `pos * inv_freq[i]` with
    `inv_freq[i] = theta^(-2i/D)` (`theta` defaults to 10000), or, when
    `tables(%cos, %sin)` are given (each `[P, D/2]`, f32 or the input's
    element type), `cos`/`sin` are read from row `pos` of the tables;
    positions outside `[0, P)` are clamped to that range. Pairs:

    * `neox` (GPT-NeoX, Llama in Hugging Face): `(x[i], x[i + D/2])`;
    * `interleaved` (GPT-J, Meta's original Llama): `(x[2i], x[2i + 1])`;

    and each pair `(a, b)` becomes `(a cos - b sin, b cos + a sin)`,
    evaluated in f32 (angles in f32 too) and rounded once.

    ```mlir
    %q = prism.rope neox bshd %x, %pos theta = 5.0e+05
           : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
    ```
  }];
  let arguments = (ins Prism_RopeStyle:$style, Prism_RopeLayout:$layout,
                       Prism_FloatTensor:$input, Prism_IndexTensor:$positions,
                       Optional<Prism_FloatTensor>:$cos_table,
                       Optional<Prism_FloatTensor>:$sin_table,
                       OptionalAttr<F64Attr>:$theta);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $style $layout $input `,` $positions
    (`tables` `(` $cos_table^ `,` $sin_table `:` type($cos_table) `,`
       type($sin_table) `)`)?
    (`theta` `=` $theta^)? attr-dict `:` type($input) `,` type($positions)
  }];
  let extraClassDeclaration = [{
    /// The base of the inverse frequencies (10000 when absent).
    double getEffectiveTheta();
  }];
}

def Prism_EmbeddingOp : Prism_InferredOp<"embedding"> {
  let summary = "row gather from an embedding table";
  let description = [{
    `table` is `[V, D]` and `indices` any shape `[...]` of `i32` / `i64`;
    the result is `[..., D]` with `result[..., :] = table[indices[...], :]`.
    An index outside `[0, V)` produces a row of zeros (never an
    out-of-bounds read).

    ```mlir
    %h = prism.embedding %table, %tokens : tensor<128256x4096xbf16>, tensor<1x?xi32>
    ```
  }];
  let arguments = (ins Prism_FloatTensor:$table, Prism_IndexTensor:$indices);
  let results = (outs Prism_FloatTensor:$result);
  let assemblyFormat = [{
    $table `,` $indices attr-dict `:` type($table) `,` type($indices)
  }];
}

//===----------------------------------------------------------------------===//
// Data movement and conversion
//===----------------------------------------------------------------------===//

def Prism_TransposeOp : Prism_InferredOp<"transpose"> {
  let summary = "permutation of dimensions";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]` and
    `result[idx] = input[idx'] where idx'[permutation[i]] = idx[i]`.
    `permutation` is a permutation of `[0, rank)`. The identity permutation
    folds away, a transpose of a transpose folds into one, and a transpose
    that only moves size-1 dimensions canonicalizes to a `reshape`.

    ```mlir
    %t = prism.transpose %x perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
    ```
  }];
  let arguments = (ins Prism_QuantizedOrFloatTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs Prism_QuantizedOrFloatTensor:$result);
  let assemblyFormat = [{
    $input `perm` `=` $permutation attr-dict `:` type($input)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Prism_ReshapeOp : Prism_Op<"reshape", [Pure]> {
  let summary = "reinterpretation of a row-major tensor with a new shape";
  let description = [{
    Returns the elements of `input`, in row-major order, with the result's
    shape; element type unchanged. Static shapes must have equal element
    counts. The result may have at most one dynamic dimension, whose size is
    the input's element count divided by the product of the static result
    dimensions (which must divide it). Reshapes to the same type fold away
    and a chain of reshapes folds into one.

    ```mlir
    %h = prism.reshape %x : tensor<1x?x4096xbf16> to tensor<1x?x32x128xbf16>
    ```
  }];
  let arguments = (ins Prism_QuantizedOrFloatTensor:$input);
  let results = (outs Prism_QuantizedOrFloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Prism_CastOp : Prism_Op<"cast", [Pure]> {
  let summary = "element type conversion";
  let description = [{
    Converts every element to the result's element type; the shape is
    unchanged. Among f32, f16, bf16, f8E4M3FN and i8:

    * float to float: round-to-nearest-even; f16/bf16 overflow to +-inf;
      f8E4M3FN (which has no infinity) saturates to +-448; NaN stays NaN;
    * float to i8: round-to-nearest-even, saturating to [-128, 127];
      NaN becomes 0;
    * i8 to float: exact.

    A cast to the same type folds away. `cast(cast(x : A -> B) -> C)` folds
    to `cast(x : A -> C)` when `A -> B` is exact (B holds every value of A),
    and to `x` when moreover `C == A`.

    ```mlir
    %h = prism.cast %x : tensor<?x4096xf32> to tensor<?x4096xbf16>
    ```
  }];
  let arguments = (ins Prism_QuantizedOrFloatTensor:$input);
  let results = (outs Prism_QuantizedOrFloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

def Prism_FusionOp : Prism_Op<"fusion", [
    Pure, SingleBlock]> {
  let summary = "prism ops that run as one kernel";
  let description = [{
    The body holds prism ops (and splat `arith.constant`s) that the fusion
    passes grouped so that kernelization emits one kernel for them; the
    results are the body's `prism.yield` operands. The body reads values
    defined above it directly. Values computed inside the body never reach
    global memory, and they are not rounded to their element type (they stay
    in f32, as the float64 reference computes them), except by `prism.cast`,
    which still rounds.

    `kind` says which kernel the body is, and the verifier checks that the
    body has that form:

    - `elementwise`: elementwise ops (binary, unary, `gelu`, `swiglu`,
      `cast`) that all produce the shape of the single result;
    - `matmul`: one `prism.matmul` first, then elementwise ops of its
      result's shape (the epilogue: bias, activation, residual add,
      scaling, cast), one result;
    - `gated_matmul`: two `prism.matmul`s of the same `lhs` with the same
      transposes and result type (one read of the input for both), then an
      elementwise epilogue that uses both (SwiGLU: `swiglu(gate, up)`);
    - `norm`: elementwise ops (the prologue, e.g. a residual add) then one
      `rms_norm` or `layer_norm` of the prologue's last value; the results
      are the normalized value and optionally the prologue's value;
    - `matmul_rope`: a rank-3 `prism.matmul` (`[B, S, H * D]`, f32
      accumulator), a `prism.reshape` of it to `[B, S, H, D]`, and a neox
      `bshd` `prism.rope` of that with computed angles (no tables): a q or k
      projection with its rotary embedding in the epilogue; one result.

    ```mlir
    %y = prism.fusion matmul -> (tensor<?x4096xbf16>) {
      %o = prism.matmul %a, %wo transpose_rhs : tensor<?x4096xbf16>, tensor<4096x4096xbf16>
      %r = prism.add %x, %o : tensor<?x4096xbf16>, tensor<?x4096xbf16>
      prism.yield %r : tensor<?x4096xbf16>
    }
    ```
  }];
  let arguments = (ins Prism_FusionKind:$kind);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind (`->` `(` type($results)^ `)`)? $body attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The body's ops, terminator excluded, in order.
    ::llvm::SmallVector<::mlir::Operation *> getBodyOps();
    /// The body's terminator.
    YieldOp getYield();
    /// Why the body does not have the form `kind` says (empty if it does).
    std::string checkStructure();
    /// Whether `op` can be computed inside a fused kernel's elementwise
    /// part (binary, unary, gelu, swiglu, and casts between float types of
    /// 16 or 32 bits).
    static bool isElementwise(::mlir::Operation *op);
    /// Whether `op` is an `arith.constant` splat of a float.
    static bool isSplatConstant(::mlir::Operation *op);
  }];
}

def Prism_YieldOp : Prism_Op<"yield", [
    Pure, Terminator, HasParent<"FusionOp">]> {
  let summary = "the results of a prism.fusion body";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = [{
    ($values^ `:` type($values))? attr-dict
  }];
}

#endif // PRISM_OPS_TD
