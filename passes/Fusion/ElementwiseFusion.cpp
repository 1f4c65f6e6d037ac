//===- ElementwiseFusion.cpp - elementwise chains as one kernel -----------===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

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
      SmallVector<Operation *> ordered = fusion::collectElementwiseProducers(
          root, fusion::shapeOf(root->getResult(0)));
      if (ordered.size() < 2)
        continue;
      fusion::createFusion(FusionKind::Elementwise, ordered, {root->getResult(0)});
    }
  }
};
} // namespace
