//===- RopeProjectionFusion.cpp - rope in the q/k projection's epilogue ---===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

namespace prism {
#define GEN_PASS_DEF_FUSEROPEPROJECTIONS
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {
struct FuseRopeProjectionsPass
    : prism::impl::FuseRopeProjectionsBase<FuseRopeProjectionsPass> {
  void runOnOperation() override {
    SmallVector<RopeOp> ropes;
    getOperation().walk([&](RopeOp rope) {
      if (fusion::isTopLevel(rope))
        ropes.push_back(rope);
    });
    for (RopeOp rope : ropes) {
      if (rope.getStyle() != RopeStyle::Neox ||
          rope.getLayout() != RopeLayout::BSHD || rope.getCosTable())
        continue;
      auto reshape = rope.getInput().getDefiningOp<ReshapeOp>();
      if (!reshape || fusion::singleUser(reshape.getResult()) != rope)
        continue;
      auto matmul = reshape.getInput().getDefiningOp<MatmulOp>();
      if (!matmul || fusion::singleUser(matmul.getResult()) != reshape ||
          !fusion::isTopLevel(matmul) || !matmul.getAccumulatorType().isF32())
        continue;
      // The reshape must split the last dim into static [H, D].
      ArrayRef<int64_t> product = fusion::shapeOf(matmul.getResult());
      ArrayRef<int64_t> heads = fusion::shapeOf(reshape.getResult());
      if (product.size() != 3 || heads.size() != 4 ||
          product.take_front(2) != heads.take_front(2) ||
          ShapedType::isDynamic(heads[2]) || ShapedType::isDynamic(heads[3]) ||
          ShapedType::isDynamic(product[2]) || heads[2] * heads[3] != product[2])
        continue;
      fusion::createFusion(FusionKind::MatmulRope, {matmul, reshape, rope},
                           {rope.getResult()});
    }
  }
};
} // namespace
