//===- NormalizationOps.cpp - softmax, reduce, rms_norm, layer_norm -------===//

#include "dialects/Prism/IR/PrismOps.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

#include <limits>

using namespace mlir;
using namespace prism;

//===----------------------------------------------------------------------===//
// SoftmaxOp
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> input =
      requireFloatTensor(diag, "input", adaptor.getInput().getType());
  if (failed(input))
    return failure();
  if (input->getRank() == 0)
    return diag.fail("operand 'input' must have rank >= 1, but got ", *input);
  // Default-valued attributes are not populated yet while the parser infers
  // result types: read the attribute and apply the default here.
  IntegerAttr axis = adaptor.getAxisAttr();
  if (failed(normalizeAxis(diag, "axis", axis ? axis.getInt() : -1,
                           input->getRank())))
    return failure();
  results.push_back(*input);
  return success();
}

// Canonical form: a non-negative axis.
OpFoldResult SoftmaxOp::fold(FoldAdaptor) {
  int64_t axis = getAxis();
  if (axis >= 0)
    return {};
  setAxis(axis + getType().getRank());
  return getResult();
}

//===----------------------------------------------------------------------===//
// ReduceOp
//===----------------------------------------------------------------------===//

/// Normalized, sorted, checked-distinct reduction axes.
static FailureOr<SmallVector<int64_t>>
normalizeReductionAxes(const OpDiagnostic &diag, ArrayRef<int64_t> axes,
                       int64_t rank) {
  if (axes.empty())
    return diag.fail("attribute 'axes' must name at least one axis");
  SmallVector<int64_t> normalized;
  for (int64_t axis : axes) {
    FailureOr<int64_t> n = normalizeAxis(diag, "axes", axis, rank);
    if (failed(n))
      return failure();
    normalized.push_back(*n);
  }
  llvm::sort(normalized);
  for (size_t i = 1; i < normalized.size(); ++i)
    if (normalized[i] == normalized[i - 1])
      return diag.fail("attribute 'axes' names axis ", normalized[i],
                       " more than once");
  return normalized;
}

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> input =
      requireFloatTensor(diag, "input", adaptor.getInput().getType());
  if (failed(input))
    return failure();
  FailureOr<SmallVector<int64_t>> axes =
      normalizeReductionAxes(diag, adaptor.getAxes(), input->getRank());
  if (failed(axes))
    return failure();
  SmallVector<int64_t> shape;
  for (auto [index, dim] : llvm::enumerate(input->getShape())) {
    if (!llvm::is_contained(*axes, static_cast<int64_t>(index)))
      shape.push_back(dim);
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  results.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

/// Whether every reduced axis is a static dimension of size 1.
static bool reducesOnlyUnitDims(ReduceOp op) {
  ArrayRef<int64_t> shape = op.getInput().getType().getShape();
  int64_t rank = shape.size();
  return llvm::all_of(op.getAxes(), [&](int64_t axis) {
    return shape[axis < 0 ? axis + rank : axis] == 1;
  });
}

// Canonical form: sorted non-negative axes. Reducing size-1 dims with
// keepdims is the identity for every kind (sum, max, min, mean).
OpFoldResult ReduceOp::fold(FoldAdaptor) {
  if (getKeepdims() && reducesOnlyUnitDims(*this))
    return getInput();
  int64_t rank = getInput().getType().getRank();
  SmallVector<int64_t> axes;
  for (int64_t axis : getAxes())
    axes.push_back(axis < 0 ? axis + rank : axis);
  llvm::sort(axes);
  if (ArrayRef<int64_t>(axes) == getAxes())
    return {};
  setAxes(axes);
  return getResult();
}

namespace {
/// reduce over size-1 dims without keepdims -> reshape.
struct ReduceOfUnitDimsToReshape : OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKeepdims() || !reducesOnlyUnitDims(op))
      return failure();
    if (llvm::count_if(op.getType().getShape(), ShapedType::isDynamic) > 1)
      return failure(); // reshape allows one dynamic result dimension
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};
} // namespace

void ReduceOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<ReduceOfUnitDimsToReshape>(context);
}

//===----------------------------------------------------------------------===//
// RmsNormOp, LayerNormOp
//===----------------------------------------------------------------------===//

/// The normalized input of a norm: float, rank >= 1.
static FailureOr<RankedTensorType> requireNormInput(const OpDiagnostic &diag,
                                                    Type type) {
  FailureOr<RankedTensorType> input = requireFloatTensor(diag, "input", type);
  if (failed(input))
    return failure();
  if (input->getRank() == 0)
    return diag.fail("operand 'input' must have rank >= 1 (it is normalized "
                     "over its last axis), but got ",
                     *input);
  return input;
}

/// `eps` must be finite and >= 0. A missing attribute (its default is
/// applied after the parser infers result types) is valid.
static LogicalResult requirePositiveEpsilon(const OpDiagnostic &diag,
                                            FloatAttr epsilonAttr) {
  if (!epsilonAttr)
    return success();
  double epsilon = epsilonAttr.getValueAsDouble();
  // The kernels add it in f32: it must be an f32 value.
  if (!(epsilon >= 0.0) || !(epsilon <= std::numeric_limits<float>::max()))
    return diag.fail("attribute 'eps' must be a finite f32 value >= 0, but got ",
                     epsilon);
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> input =
      requireNormInput(diag, adaptor.getInput().getType());
  if (failed(input))
    return failure();
  int64_t features = input->getShape().back();
  if (failed(requireFeatureVector(diag, "weight", adaptor.getWeight().getType(),
                                  features, input->getElementType(),
                                  "the last dimension of 'input'")) ||
      failed(requirePositiveEpsilon(diag,
                                    adaptor.getEpsilonAttr())))
    return failure();
  results.push_back(*input);
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> input =
      requireNormInput(diag, adaptor.getInput().getType());
  if (failed(input))
    return failure();
  int64_t features = input->getShape().back();
  StringRef sizeName = "the last dimension of 'input'";
  if (Value weight = adaptor.getWeight())
    if (failed(requireFeatureVector(diag, "weight", weight.getType(), features,
                                    input->getElementType(), sizeName)))
      return failure();
  if (Value bias = adaptor.getBias())
    if (failed(requireFeatureVector(diag, "bias", bias.getType(), features,
                                    input->getElementType(), sizeName)))
      return failure();
  if (failed(requirePositiveEpsilon(diag, adaptor.getEpsilonAttr())))
    return failure();
  results.push_back(*input);
  return success();
}
