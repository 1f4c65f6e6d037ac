//===- ReferenceOps.h - Every prism op, in float64 --------------*- C++ -*-===//
//
// One plain function per graph op, following the semantics stated in the
// op's ODS description (docs/dialects/Prism.md), computed in double precision
// with no intermediate rounding. Only `castTo` rounds, because rounding is
// what a cast means. Independent of MLIR and of the kernel library on purpose.
//
// Shapes are assumed valid (the ops' verifiers have checked them); runtime
// conditions the verifier cannot see (dynamic sizes that do not broadcast)
// are reported through `llvm::Expected`.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_REFERENCE_REFERENCEOPS_H
#define PRISM_REFERENCE_REFERENCEOPS_H

#include "prism/Reference/ReferenceTensor.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <optional>

namespace prism::reference {

enum class BinaryKind { Add, Sub, Mul, Div, Max, Min };
enum class UnaryKind {
  Exp, Log, Sqrt, Rsqrt, Neg, Abs, Tanh, Sigmoid, Relu, Silu, GeluErf, GeluTanh
};
enum class ReduceKind { Sum, Max, Min, Mean };
enum class ElementKind { F32, F16, BF16, F8E4M3FN, I8 };

/// Elementwise binary op with numpy broadcasting of the runtime shapes.
llvm::Expected<Tensor> binary(BinaryKind kind, const Tensor &lhs,
                              const Tensor &rhs);
Tensor unary(UnaryKind kind, const Tensor &input);
Tensor swiglu(const Tensor &gate, const Tensor &up);
Tensor softmax(const Tensor &input, int64_t axis, double scale);
Tensor reduce(ReduceKind kind, const Tensor &input, std::vector<int64_t> axes,
              bool keepdims);
Tensor rmsNorm(const Tensor &input, const Tensor &weight, double epsilon);
Tensor layerNorm(const Tensor &input, const Tensor *weight, const Tensor *bias,
                 double epsilon);

struct MatmulOptions {
  bool transposeLhs = false;
  bool transposeRhs = false;
};
llvm::Expected<Tensor> matmul(const Tensor &lhs, const Tensor &rhs,
                              const Tensor *bias, MatmulOptions options);

struct AttentionOptions {
  bool causal = false;
  double scale = 1.0;
  std::optional<int64_t> window;
};
llvm::Expected<Tensor> attention(const Tensor &query, const Tensor &key,
                                 const Tensor &value, const Tensor *mask,
                                 AttentionOptions options);

struct RopeOptions {
  bool interleaved = false; // neox otherwise
  bool bhsd = false;        // bshd otherwise
  double theta = 10000.0;
  const Tensor *cosTable = nullptr; // [P, D/2]; both or neither
  const Tensor *sinTable = nullptr;
};
llvm::Expected<Tensor> rope(const Tensor &input, const Tensor &positions,
                            RopeOptions options);

Tensor embedding(const Tensor &table, const Tensor &indices);
Tensor transpose(const Tensor &input, const std::vector<int64_t> &permutation);
llvm::Expected<Tensor> reshape(const Tensor &input,
                               std::vector<int64_t> shape);

/// Rounds every element to `kind` with the rules of prism.cast:
/// round-to-nearest-even; f16/bf16 overflow to +-inf; f8E4M3FN saturates to
/// +-448; i8 saturates to [-128, 127] and NaN becomes 0.
Tensor castTo(const Tensor &input, ElementKind kind);
/// The value `value` rounds to in `kind` (the scalar form of castTo).
double roundTo(double value, ElementKind kind);

} // namespace prism::reference

#endif // PRISM_REFERENCE_REFERENCEOPS_H
