//===- GatedMatmulFusion.cpp - SwiGLU's gate and up projections together --===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

namespace prism {
#define GEN_PASS_DEF_FUSEGATEDMATMULS
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {

/// The gate and up products combined by `op`: swiglu(gate, up), or
/// mul(silu(gate), up) in either order (then `silu` is set).
struct Gating {
  Value gate, up;
  SiluOp silu;
};

std::optional<Gating> matchGating(Operation *op) {
  if (auto swiglu = dyn_cast<SwigluOp>(op))
    return Gating{swiglu.getGate(), swiglu.getUp(), SiluOp()};
  auto mul = dyn_cast<MulOp>(op);
  if (!mul)
    return std::nullopt;
  for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                      std::pair(mul.getRhs(), mul.getLhs())}) {
    auto silu = a.getDefiningOp<SiluOp>();
    if (silu && fusion::singleUser(a) == op && silu.getType() == b.getType())
      return Gating{silu.getInput(), b, silu};
  }
  return std::nullopt;
}

bool samePair(MatmulOp gate, MatmulOp up) {
  return gate && up && gate != up && gate.getLhs() == up.getLhs() &&
         gate.getTransposeLhs() == up.getTransposeLhs() &&
         gate.getTransposeRhs() == up.getTransposeRhs() &&
         gate.getType() == up.getType() &&
         gate.getRhs().getType() == up.getRhs().getType() &&
         gate.getAccumulatorType().isF32() && up.getAccumulatorType().isF32() &&
         (!gate.getBias()) == (!up.getBias());
}

struct FuseGatedMatmulsPass
    : prism::impl::FuseGatedMatmulsBase<FuseGatedMatmulsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (isa<SwigluOp, MulOp>(op) && fusion::isTopLevel(op))
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      std::optional<Gating> gating = matchGating(op);
      if (!gating)
        continue;
      auto gate = gating->gate.getDefiningOp<MatmulOp>();
      auto up = gating->up.getDefiningOp<MatmulOp>();
      if (!samePair(gate, up) || !fusion::isTopLevel(gate) ||
          !fusion::isTopLevel(up))
        continue;
      Operation *gateUser = gating->silu ? gating->silu.getOperation() : op;
      if (fusion::singleUser(gate.getResult()) != gateUser ||
          fusion::singleUser(up.getResult()) != op)
        continue;
      SmallVector<Operation *> chain = {gate, up};
      if (gating->silu)
        chain.push_back(gating->silu);
      chain.push_back(op);
      Value result = fusion::growElementwiseChain(op->getResult(0), chain);
      fusion::createFusion(FusionKind::GatedMatmul, chain, {result});
    }
  }
};
} // namespace
