//===- DataMovementOps.cpp - transpose and reshape ------------------------===//

#include "dialects/Prism/IR/PrismOps.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace prism;

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  auto input = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
  if (!input)
    return diag.fail("operand 'input' must be a ranked tensor, but got ",
                     adaptor.getInput().getType());
  ArrayRef<int64_t> permutation = adaptor.getPermutation();
  int64_t rank = input.getRank();
  if (static_cast<int64_t>(permutation.size()) != rank)
    return diag.fail("attribute 'perm' must have one entry per dimension of "
                     "'input' (",
                     rank, "), but has ", permutation.size());
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t dim : permutation) {
    if (dim < 0 || dim >= rank || seen[dim])
      return diag.fail("attribute 'perm' must be a permutation of [0, ", rank,
                       "), but ", dim, dim < 0 || dim >= rank
                                           ? " is out of range"
                                           : " appears twice");
    seen[dim] = true;
    shape.push_back(input.getDimSize(dim));
  }
  results.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> permutation = getPermutation();
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return getInput();
  auto inner = getInput().getDefiningOp<TransposeOp>();
  if (!inner)
    return {};
  // result[i] = mid[outer[i]] = input[inner[outer[i]]].
  SmallVector<int64_t> composed;
  for (int64_t dim : permutation)
    composed.push_back(inner.getPermutation()[dim]);
  if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())))
    return inner.getInput();
  setPermutation(composed);
  getInputMutable().assign(inner.getInput());
  return getResult();
}

namespace {
/// A transpose that keeps every non-unit dimension in its order only moves
/// size-1 dimensions: the data order is unchanged, so it is a reshape.
struct TransposeOfUnitDimsToReshape : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    int64_t previous = -1;
    for (int64_t dim : op.getPermutation()) {
      if (shape[dim] == 1)
        continue;
      if (dim < previous)
        return failure();
      previous = dim;
    }
    if (llvm::count_if(op.getType().getShape(), ShapedType::isDynamic) > 1)
      return failure(); // reshape allows one dynamic result dimension
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<TransposeOfUnitDimsToReshape>(context);
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

/// The reshape rules, shared by the verifier and the reshape-chain fold (which
/// must not produce an op that would not verify).
static LogicalResult checkReshape(const OpDiagnostic &diag,
                                  RankedTensorType input,
                                  RankedTensorType result) {
  if (input.getElementType() != result.getElementType())
    return diag.fail("result must have the element type of operand 'input' (",
                     input.getElementType(), "), but got ",
                     result.getElementType());
  std::optional<int64_t> inputCount = staticElementCount(input.getShape());
  std::optional<int64_t> resultCount = staticElementCount(result.getShape());
  if (!inputCount || !resultCount)
    return diag.fail("element count of ", !inputCount ? "'input'" : "result",
                     " overflows a 64-bit integer");
  int64_t resultDynamic =
      llvm::count_if(result.getShape(), ShapedType::isDynamic);
  if (resultDynamic > 1)
    return diag.fail("result may have at most one dynamic dimension, but got ",
                     result);
  if (resultDynamic == 1 && *resultCount == 0)
    return diag.fail("a dynamic result dimension cannot be inferred beside a static "
                     "dimension of size 0, but got ", result);
  if (!input.hasStaticShape())
    return success(); // checked at run time
  if (resultDynamic == 0 && *inputCount != *resultCount)
    return diag.fail("operand 'input' has ", *inputCount,
                     " elements but the result has ", *resultCount, " (",
                     input, " to ", result, ")");
  if (resultDynamic == 1 &&
      *inputCount % *resultCount != 0)
    return diag.fail("the static dimensions of the result (", *resultCount,
                     " elements) do not divide the ", *inputCount,
                     " elements of operand 'input'");
  return success();
}

LogicalResult ReshapeOp::verify() {
  OpDiagnostic diag(getLoc(), getOperationName());
  return checkReshape(diag, getInput().getType(), getType());
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto inner = getInput().getDefiningOp<ReshapeOp>();
  if (!inner)
    return {};
  if (inner.getInput().getType() == getType())
    return inner.getInput();
  if (failed(checkReshape(OpDiagnostic(std::nullopt, getOperationName()),
                          inner.getInput().getType(), getType())))
    return {};
  getInputMutable().assign(inner.getInput());
  return getResult();
}
