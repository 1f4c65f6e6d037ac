//===- Kernelize.cpp - The prism-kernelize pass ---------------------------===//
//
// prism ops to tile kernels and a launch plan per function; the plan is built
// by PlanBuilder (PlanBuilder.h).
//
//===----------------------------------------------------------------------===//

#include "passes/Kernelize/PlanBuilder.h"

#include "passes/Passes.h"
#include "dialects/Prism/IR/PrismTypeInference.h"

#include <limits>

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
    sizes.wholeRowMax = wholeRowMax;
    sizes.matmulM = matmulM;
    sizes.matmulN = matmulN;
    sizes.matmulK = matmulK;
    sizes.matmulGroupM = matmulGroupM;
    sizes.matmulSplitK = matmulSplitK;
    sizes.matmulSplitKFill = matmulSplitKFill;
    sizes.attentionSplitKV = attentionSplitKV;
    sizes.attentionM = attentionM;
    sizes.attentionN = attentionN;
    sizes.matrixCoreMatmulM = matrixCoreMatmulM;
    sizes.matrixCoreMatmulN = matrixCoreMatmulN;
    sizes.matrixCoreMatmulK = matrixCoreMatmulK;
    sizes.matrixCoreAttentionM = matrixCoreAttentionM;
    sizes.matrixCoreAttentionN = matrixCoreAttentionN;
    sizes.matrixCoreMinM = matrixCoreMinM;
    sizes.matmulMinM = matmulMinM;
    sizes.matrixCoreAttentionOverlap = matrixCoreAttentionOverlap;
    sizes.stridedBlock = stridedBlock;
    sizes.separateMatmulEpilogue = separateMatmulEpilogue;
    sizes.unfusedAttention = unfusedAttention;
    SmallVector<func::FuncOp> graphs;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function->hasAttr(tile::TileDialect::getKernelAttrName()) &&
          !function.isExternal() && !function->hasAttr(kPlanAttrName))
        graphs.push_back(function);
    // Every tile size is a count of elements, rows or programs: at least 1.
    for (auto [name, value] : {std::pair<StringRef, int64_t>{"elementwise-block", elementwiseBlock},
                               {"row-block", rowBlock},
                               {"matmul-m", matmulM},
                               {"matmul-n", matmulN},
                               {"matmul-k", matmulK},
                               {"matmul-group-m", matmulGroupM},
                               {"attention-m", attentionM},
                               {"attention-n", attentionN},
                               {"strided-block", stridedBlock}}) {
      if (value < 1) {
        module.emitError("prism-kernelize: ") << name << " must be at least 1, not " << value;
        return signalPassFailure();
      }
    }
    // Sizes where 0 means something else (what the message says).
    struct OptionalSize {
      StringRef name;
      int64_t value;
      StringRef zeroMeans;
    };
    for (const OptionalSize &size :
         {OptionalSize{"matrix-core-matmul-m", matrixCoreMatmulM, "the plain size"},
          {"matrix-core-matmul-n", matrixCoreMatmulN, "the plain size"},
          {"matrix-core-matmul-k", matrixCoreMatmulK, "the plain size"},
          {"matrix-core-attention-m", matrixCoreAttentionM, "the plain size"},
          {"matrix-core-attention-n", matrixCoreAttentionN, "the plain size"},
          {"matrix-core-min-m", matrixCoreMinM, "the plain size"},
          {"matmul-min-m", matmulMinM, "never shrunk"},
          {"matmul-split-k", matmulSplitK, "the choice of matmul-split-k-fill"},
          {"matmul-split-k-fill", matmulSplitKFill, "never split"},
          {"attention-split-kv", attentionSplitKV, "the choice of matmul-split-k-fill"},
          {"whole-row-max", wholeRowMax, "rows in chunks"}}) {
      if (size.value < 0) {
        module.emitError("prism-kernelize: ")
            << size.name << " must be 0 (" << size.zeroMeans << ") or at least 1, not "
            << size.value;
        return signalPassFailure();
      }
    }
    // The sum kernel reads every part of a partial: a few, not thousands.
    if (matmulSplitK > kernels::TileSizes::kSplitKMax) {
      module.emitError("prism-kernelize: matmul-split-k must be at most ")
          << kernels::TileSizes::kSplitKMax << ", not " << static_cast<int64_t>(matmulSplitK);
      return signalPassFailure();
    }
    // The combine kernel walks every part of a row: a few dozen at most.
    if (attentionSplitKV > kernels::TileSizes::kAttentionSplitMax) {
      module.emitError("prism-kernelize: attention-split-kv must be at most ")
          << kernels::TileSizes::kAttentionSplitMax << ", not "
          << static_cast<int64_t>(attentionSplitKV);
      return signalPassFailure();
    }
    if (pipelineStages != 0 && pipelineStages < 2) {
      module.emitError("prism-kernelize: pipeline-stages must be 0 (the target's "
                       "choice) or at least 2, not ")
          << static_cast<int64_t>(pipelineStages);
      return signalPassFailure();
    }
    if (dotsInFlight < -1 || dotsInFlight > 1) {
      module.emitError("prism-kernelize: dots-in-flight must be -1 (the target's "
                       "choice), 0 or 1, not ")
          << static_cast<int64_t>(dotsInFlight);
      return signalPassFailure();
    }
    if (warpSpecialize < -1 || warpSpecialize > 2) {
      module.emitError("prism-kernelize: warp-specialize must be -1 (the target's "
                       "choice), 0, 1 or 2, not ")
          << static_cast<int64_t>(warpSpecialize);
      return signalPassFailure();
    }
    // A static tensor type whose bytes do not fit 63 bits cannot be
    // addressed (and its element count would wrap at run time).
    for (func::FuncOp function : graphs) {
      auto tooLarge = [](Type type) {
        auto tensor = dyn_cast<RankedTensorType>(type);
        if (!tensor || !tensor.getElementType().isIntOrFloat())
          return false; // other element types are refused elsewhere
        SmallVector<int64_t> known;
        for (int64_t d : tensor.getShape())
          known.push_back(ShapedType::isDynamic(d) ? 1 : d);
        std::optional<int64_t> count = staticElementCount(known);
        int64_t bytes = std::max<int64_t>(1, tensor.getElementTypeBitWidth() / 8);
        return !count || *count > std::numeric_limits<int64_t>::max() / bytes;
      };
      WalkResult walk = function.walk([&](Operation *op) {
        // f8 is a storage type: no kernel converts to or from it yet (the
        // lowering would fail later, far from the op).
        if (isa<CastOp>(op))
          for (Type type : {op->getOperand(0).getType(), op->getResult(0).getType()})
            if (isa<Float8E4M3FNType>(getElementTypeOrSelf(type))) {
              op->emitOpError("casts to or from f8E4M3FN are not supported by the "
                              "kernel library yet");
              return WalkResult::interrupt();
            }
        for (Type type : op->getResultTypes())
          if (tooLarge(type)) {
            op->emitError("a result of ") << type << " holds more than 2^63 bytes";
            return WalkResult::interrupt();
          }
        return WalkResult::advance();
      });
      for (auto [i, type] : llvm::enumerate(function.getArgumentTypes()))
        if (!walk.wasInterrupted() && tooLarge(type)) {
          function.emitError("input ") << i << " of " << type << " holds more than 2^63 bytes";
          walk = WalkResult::interrupt();
        }
      if (walk.wasInterrupted())
        return signalPassFailure();
    }
    llvm::StringMap<func::FuncOp> kernelsByText;
    for (func::FuncOp function : graphs) {
      kernelize::PlanBuilder plan(module, function, sizes, kernelsByText);
      if (failed(plan.build()))
        return signalPassFailure();
    }
    // The pipeline's shape, for the targets that stage dot operands.
    Builder b(module.getContext());
    for (auto kernel : module.getOps<func::FuncOp>()) {
      if (!kernel->hasAttr(tile::TileDialect::getKernelAttrName()))
        continue;
      if (pipelineStages != 0)
        kernel->setAttr(tile::TileDialect::getPipelineStagesAttrName(),
                        b.getI64IntegerAttr(pipelineStages));
      if (dotsInFlight != -1)
        kernel->setAttr(tile::TileDialect::getDotsInFlightAttrName(),
                        b.getI64IntegerAttr(dotsInFlight));
      if (warpSpecialize != -1)
        kernel->setAttr(tile::TileDialect::getWarpSpecializeAttrName(),
                        b.getI64IntegerAttr(warpSpecialize));
    }
  }
};

} // namespace
