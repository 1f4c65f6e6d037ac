//===- ElementwiseFusion.cpp - elementwise chains as one kernel -----------===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace prism {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {
struct FuseElementwisePass
    : prism::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (FusionOp::isElementwise(op) && fusion::isTopLevel(op))
        ops.push_back(op);
    });
    // Last ops first: a chain is grown backwards from its final op.
    for (Operation *root : llvm::reverse(ops)) {
      if (!fusion::isTopLevel(root))
        continue; // already moved into a fusion
      ArrayRef<int64_t> shape = fusion::shapeOf(root->getResult(0));
      llvm::SetVector<Operation *> group;
      group.insert(root);
      for (size_t i = 0; i < group.size(); ++i)
        for (Value operand : group[i]->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (def && FusionOp::isElementwise(def) && fusion::isTopLevel(def) &&
              fusion::singleUser(operand) == group[i] &&
              fusion::shapeOf(operand) == shape)
            group.insert(def);
        }
      if (group.size() < 2)
        continue;
      SmallVector<Operation *> ordered(group.begin(), group.end());
      llvm::sort(ordered, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      fusion::createFusion(FusionKind::Elementwise, ordered, {root->getResult(0)});
    }
  }
};
} // namespace
