//===- Kernelize.cpp - The prism-kernelize pass ---------------------------===//
//
// prism ops to tile kernels and a launch plan per function; the plan is built
// by PlanBuilder (PlanBuilder.h).
//
//===----------------------------------------------------------------------===//

#include "passes/Kernelize/PlanBuilder.h"

#include "passes/Passes.h"

namespace prism {
#define GEN_PASS_DEF_KERNELIZE
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {

struct KernelizePass : prism::impl::KernelizeBase<KernelizePass> {
  using KernelizeBase::KernelizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    kernels::TileSizes sizes;
    sizes.elementwiseBlock = elementwiseBlock;
    sizes.rowBlock = rowBlock;
    sizes.matmulM = matmulM;
    sizes.matmulN = matmulN;
    sizes.matmulK = matmulK;
    sizes.matmulGroupM = matmulGroupM;
    sizes.attentionM = attentionM;
    sizes.attentionN = attentionN;
    sizes.stridedBlock = stridedBlock;
    sizes.separateMatmulEpilogue = separateMatmulEpilogue;
    sizes.unfusedAttention = unfusedAttention;
    SmallVector<func::FuncOp> graphs;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function->hasAttr(tile::TileDialect::getKernelAttrName()) &&
          !function.isExternal() && !function->hasAttr(kPlanAttrName))
        graphs.push_back(function);
    llvm::StringMap<func::FuncOp> kernelsByText;
    for (func::FuncOp function : graphs) {
      kernelize::PlanBuilder plan(module, function, sizes, kernelsByText);
      if (failed(plan.build()))
        return signalPassFailure();
    }
  }
};

} // namespace
