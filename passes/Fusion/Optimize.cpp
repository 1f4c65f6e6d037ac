//===- Optimize.cpp - The prism-optimize pipeline -------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace prism {
#define GEN_PASS_DEF_OPTIMIZE
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace prism {

void buildOptimizationPipeline(OpPassManager &pm) {
  OpPassManager &functions = pm.nest<func::FuncOp>();
  functions.addPass(createCanonicalizerPass());
  functions.addPass(createCSEPass());
  functions.addPass(createSinkViews());
  functions.addPass(createRecognizeAttention());
  // Removes what recognition left dead (constant masks) and folds the
  // reshape chains of grouped-query attention.
  functions.addPass(createCanonicalizerPass());
  functions.addPass(createFuseGatedMatmuls());
  functions.addPass(createFuseRopeProjections());
  functions.addPass(createFuseMatmulEpilogues());
  functions.addPass(createFuseNorms());
  functions.addPass(createFuseElementwise());
}

namespace {
struct OptimizePass : impl::OptimizeBase<OptimizePass> {
  void runOnOperation() override {
    OpPassManager pm(ModuleOp::getOperationName());
    buildOptimizationPipeline(pm);
    if (failed(runPipeline(pm, getOperation())))
      signalPassFailure();
  }
};
} // namespace
} // namespace prism
