//===- SinkViews.cpp - Transposes below elementwise ops, no redundant reshapes ===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_SINKVIEWS
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {

/// `op` recreated on `operands` with result type `type` (same attributes).
Value recreate(PatternRewriter &rewriter, Operation *op, ValueRange operands,
               Type type) {
  OperationState state(op->getLoc(), op->getName());
  state.addOperands(operands);
  state.addAttributes(op->getAttrs());
  state.addTypes(type);
  return rewriter.create(state)->getResult(0);
}

/// elementwise(transpose(x, p), transpose(y, p) | splat) ->
/// transpose(elementwise(x, y | splat), p): the elementwise kernel then
/// reads and writes contiguous rows, and the transpose stays a free view.
struct SinkTransposeBelowElementwise : RewritePattern {
  SinkTransposeBelowElementwise(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!FusionOp::isElementwise(op) || !fusion::isTopLevel(op))
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    ArrayRef<int64_t> permutation;
    SmallVector<Value> sources;
    for (Value operand : op->getOperands()) {
      if (fusion::isSplatConstant(operand) &&
          cast<RankedTensorType>(operand.getType()).getRank() == 0) {
        sources.push_back(operand);
        continue;
      }
      auto transpose = operand.getDefiningOp<TransposeOp>();
      // Every tensor operand a transpose of the result's shape (no
      // broadcasting), by one permutation, used only here.
      if (!transpose || fusion::shapeOf(operand) != resultType.getShape() ||
          !operand.hasOneUse() ||
          (!permutation.empty() && transpose.getPermutation() != permutation))
        return failure();
      permutation = transpose.getPermutation();
      sources.push_back(transpose.getInput());
    }
    if (permutation.empty())
      return failure();
    Value tensorSource = *llvm::find_if(
        sources, [](Value v) { return !fusion::isSplatConstant(v); });
    auto sourceType = RankedTensorType::get(fusion::shapeOf(tensorSource),
                                            resultType.getElementType());
    Value computed = recreate(rewriter, op, sources, sourceType);
    rewriter.replaceOpWithNewOp<TransposeOp>(
        op, computed, rewriter.getDenseI64ArrayAttr(permutation));
    return success();
  }
};

/// binary(x, reshape(b)) where the reshape only prepends unit dims to b ->
/// binary(x, b): numpy broadcasting already aligns b on the right.
struct DropRankExpandingReshape : RewritePattern {
  DropRankExpandingReshape(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!FusionOp::isElementwise(op) || !fusion::isTopLevel(op) ||
        op->getNumOperands() != 2 || isa<SwigluOp>(op))
      return failure();
    int64_t resultRank =
        cast<RankedTensorType>(op->getResult(0).getType()).getRank();
    for (OpOperand &use : op->getOpOperands()) {
      auto reshape = use.get().getDefiningOp<ReshapeOp>();
      if (!reshape)
        continue;
      ArrayRef<int64_t> from = fusion::shapeOf(reshape.getInput());
      ArrayRef<int64_t> to = fusion::shapeOf(reshape.getResult());
      if (from.empty() || to.size() <= from.size() ||
          to.take_back(from.size()) != from ||
          llvm::any_of(to.drop_back(from.size()),
                       [](int64_t d) { return d != 1; }))
        continue;
      // The other operand keeps the result's rank.
      Value other = op->getOperand(1 - use.getOperandNumber());
      if (cast<RankedTensorType>(other.getType()).getRank() != resultRank)
        continue;
      rewriter.modifyOpInPlace(op, [&] { use.set(reshape.getInput()); });
      return success();
    }
    return failure();
  }
};

struct SinkViewsPass : prism::impl::SinkViewsBase<SinkViewsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SinkTransposeBelowElementwise, DropRankExpandingReshape>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
