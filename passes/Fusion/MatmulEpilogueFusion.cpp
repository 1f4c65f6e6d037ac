//===- MatmulEpilogueFusion.cpp - matmul + elementwise as one kernel ------===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

namespace prism {
#define GEN_PASS_DEF_FUSEMATMULEPILOGUES
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {
struct FuseMatmulEpiloguesPass
    : prism::impl::FuseMatmulEpiloguesBase<FuseMatmulEpiloguesPass> {
  void runOnOperation() override {
    SmallVector<MatmulOp> matmuls;
    getOperation().walk([&](MatmulOp matmul) {
      if (fusion::isTopLevel(matmul))
        matmuls.push_back(matmul);
    });
    for (MatmulOp matmul : matmuls) {
      // The epilogue runs on the f32 accumulator tile.
      if (!matmul.getAccumulatorType().isF32())
        continue;
      SmallVector<Operation *> chain = {matmul};
      Value result = fusion::growElementwiseChain(matmul.getResult(), chain);
      if (chain.size() > 1)
        fusion::createFusion(FusionKind::Matmul, chain, {result});
    }
  }
};
} // namespace
