//===- NormFusion.cpp - residual add + rms_norm / layer_norm as one kernel -===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

namespace prism {
#define GEN_PASS_DEF_FUSENORMS
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {

struct FuseNormsPass : prism::impl::FuseNormsBase<FuseNormsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> norms;
    getOperation().walk([&](Operation *op) {
      if (isa<RmsNormOp, LayerNormOp>(op) && fusion::isTopLevel(op))
        norms.push_back(op);
    });
    for (Operation *norm : norms) {
      Value input = norm->getOperand(0);
      Operation *producer = input.getDefiningOp();
      if (!producer || !FusionOp::isElementwise(producer) ||
          !fusion::isTopLevel(producer) ||
          producer->getBlock() != norm->getBlock())
        continue;
      SmallVector<Operation *> chain =
          fusion::collectElementwiseProducers(producer, fusion::shapeOf(input));
      // The weight and bias must be available before the prologue starts
      // (they never depend on the normalized value in a real model; if they
      // did, the fusion would be a cycle).
      bool available = llvm::all_of(
          norm->getOperands().drop_front(), [&](Value operand) {
            Operation *def = operand.getDefiningOp();
            return !def || def->getBlock() != norm->getBlock() ||
                   def->isBeforeInBlock(chain.front());
          });
      // A prologue of constants only is not a row anyone loads.
      bool readsTensor = llvm::any_of(chain, [&](Operation *op) {
        return llvm::any_of(op->getOperands(), [&](Value operand) {
          Operation *def = operand.getDefiningOp();
          return !def || (!llvm::is_contained(chain, def) &&
                          !FusionOp::isSplatConstant(def));
        });
      });
      if (!available || !readsTensor)
        continue;
      SmallVector<Value> results = {norm->getResult(0)};
      if (!input.hasOneUse())
        results.push_back(input);
      chain.push_back(norm);
      fusion::createFusion(FusionKind::Norm, chain, results);
    }
  }
};
} // namespace
