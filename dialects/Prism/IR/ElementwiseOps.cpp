//===- ElementwiseOps.cpp - Elementwise prism ops, activations, cast ------===//

#include "dialects/Prism/IR/PrismOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace prism;

//===----------------------------------------------------------------------===//
// Binary ops: identity folds that are exact in IEEE arithmetic
//===----------------------------------------------------------------------===//

/// Returns `lhs` when `rhs` is a splat constant equal to `identity` and the
/// op does not broadcast `lhs` to a larger shape. Only identities that hold
/// bit-exactly for every input (including -0.0, inf and NaN) are used.
static OpFoldResult foldRightIdentity(Operation *op, Value lhs,
                                      Attribute rhsConstant, double identity,
                                      bool negativeZero = false) {
  if (lhs.getType() != op->getResult(0).getType())
    return {};
  auto splat = dyn_cast_if_present<SplatElementsAttr>(rhsConstant);
  if (!splat || !isa<FloatType>(splat.getElementType()))
    return {};
  APFloat value = splat.getSplatValue<APFloat>();
  if (negativeZero)
    return value.isZero() && value.isNegative() ? OpFoldResult(lhs)
                                                : OpFoldResult();
  bool losesInfo = false;
  APFloat expected(identity);
  expected.convert(value.getSemantics(), APFloat::rmNearestTiesToEven,
                   &losesInfo);
  if (value.bitwiseIsEqual(expected))
    return lhs;
  return {};
}

// x + (-0.0) == x for every x (x + 0.0 is not: -0.0 + 0.0 == +0.0).
OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), 0.0,
                           /*negativeZero=*/true);
}

// x - (+0.0) == x for every x, -0.0 included.
OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getRhs());
  if (!splat || getLhs().getType() != getType() ||
      !isa<FloatType>(splat.getElementType()))
    return {};
  APFloat value = splat.getSplatValue<APFloat>();
  if (value.isZero() && !value.isNegative())
    return getLhs();
  return {};
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), 1.0);
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), 1.0);
}

// max(x, x) == min(x, x) == x, NaN included.
OpFoldResult MaxOp::fold(FoldAdaptor) {
  if (getLhs() == getRhs() && getLhs().getType() == getType())
    return getLhs();
  return {};
}

OpFoldResult MinOp::fold(FoldAdaptor) {
  if (getLhs() == getRhs() && getLhs().getType() == getType())
    return getLhs();
  return {};
}

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return {};
}

// abs and relu are idempotent.
OpFoldResult AbsOp::fold(FoldAdaptor) {
  if (getInput().getDefiningOp<AbsOp>())
    return getInput();
  return {};
}

OpFoldResult ReluOp::fold(FoldAdaptor) {
  if (getInput().getDefiningOp<ReluOp>())
    return getInput();
  return {};
}

LogicalResult GeluOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  return inferElementwiseUnaryOp(location, getOperationName(),
                                 adaptor.getInput().getType(), results);
}

LogicalResult SwigluOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> gate =
      requireFloatTensor(diag, "gate", adaptor.getGate().getType());
  if (failed(gate))
    return failure();
  FailureOr<RankedTensorType> up =
      requireFloatTensor(diag, "up", adaptor.getUp().getType());
  if (failed(up))
    return failure();
  if (*gate != *up)
    return diag.fail("operands 'gate' and 'up' must have the same type, but "
                     "got ",
                     *gate, " and ", *up);
  results.push_back(*gate);
  return success();
}

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

/// Whether every value of `from` is representable in `to`, so that a cast
/// from `from` to `to` never rounds or saturates.
static bool isExactConversion(Type from, Type to) {
  if (from == to)
    return true;
  if (from.isSignlessInteger(8))
    return isa<FloatType>(to) && !isa<Float8E4M3FNType>(to); // i8 fits f16+
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (!fromFloat || !toFloat)
    return false;
  // f8E4M3FN (4-bit exponent, 3-bit mantissa, max 448) fits f16, bf16, f32;
  // f16 and bf16 fit f32. Nothing else widens exactly.
  if (isa<Float8E4M3FNType>(from))
    return to.isF16() || to.isBF16() || to.isF32();
  if (from.isF16() || from.isBF16())
    return to.isF32();
  return false;
}

LogicalResult CastOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (input.getRank() != result.getRank())
    return emitOpError("result must have the shape of operand 'input' (")
           << input << "), but got " << result;
  for (auto [in, out] : llvm::zip(input.getShape(), result.getShape()))
    if (in != out)
      return emitOpError("result must have the shape of operand 'input' (")
             << input << "), but got " << result;
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto inner = getInput().getDefiningOp<CastOp>();
  if (!inner)
    return {};
  Type source = getElementTypeOrSelf(inner.getInput().getType());
  Type middle = getElementTypeOrSelf(inner.getType());
  if (!isExactConversion(source, middle))
    return {};
  if (inner.getInput().getType() == getType())
    return inner.getInput();
  getInputMutable().assign(inner.getInput());
  return getResult();
}
