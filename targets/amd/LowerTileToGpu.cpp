//===- LowerTileToGpu.cpp - The AMD lowering of tile kernels --------------===//
//
// The shared GPU lowering (targets/gpu), then math that ROCDL would turn
// into ROCm device-library calls rewritten into polynomials and intrinsics.
//
//===----------------------------------------------------------------------===//

#include "targets/amd/MatrixCoreLowering.h"
#include "targets/amd/Passes.h"
#include "targets/gpu/TileToGpu.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism::amd {
#define GEN_PASS_DEF_AMDLOWERTILETOGPU
#include "targets/amd/Passes.h.inc"
} // namespace prism::amd

using namespace mlir;

namespace {

/// floor(x) through an integer conversion: ROCDL would call __ocml_floor.
/// Exact for |x| < 2^31, which covers its only users here (the range
/// reduction of the sin/cos polynomials); larger values are already
/// integers in f32 beyond 2^24 and are returned unchanged.
struct FloorThroughIntegers : OpRewritePattern<math::FloorOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FloorOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Type type = x.getType();
    auto shaped = dyn_cast<VectorType>(type);
    Type i32 = shaped ? Type(VectorType::get(shaped.getShape(), rewriter.getI32Type()))
                      : Type(rewriter.getI32Type());
    auto constant = [&](double v) -> Value {
      Type element = getElementTypeOrSelf(type);
      Attribute attr = rewriter.getFloatAttr(element, v);
      if (shaped)
        return arith::ConstantOp::create(rewriter, loc, type,
                                         SplatElementsAttr::get(shaped, attr));
      return arith::ConstantOp::create(rewriter, loc, type, cast<TypedAttr>(attr));
    };
    Value truncated = arith::SIToFPOp::create(
        rewriter, loc, type, arith::FPToSIOp::create(rewriter, loc, i32, x));
    Value above = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGT,
                                        truncated, x);
    Value floor = arith::SelectOp::create(
        rewriter, loc, above, arith::SubFOp::create(rewriter, loc, truncated, constant(1.0)),
        truncated);
    Value large = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OGE,
        math::AbsFOp::create(rewriter, loc, x), constant(16777216.0));
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, large, x, floor);
    return success();
  }
};

struct AmdLowerTileToGpuPass
    : prism::amd::impl::AmdLowerTileToGpuBase<AmdLowerTileToGpuPass> {
  using AmdLowerTileToGpuBase::AmdLowerTileToGpuBase;

  void runOnOperation() override {
    static const prism::amd::AmdMatrixCoreLowering mfma(
        prism::amd::MatrixCoreKind::Mfma);
    static const prism::amd::AmdMatrixCoreLowering wmma(
        prism::amd::MatrixCoreKind::Wmma);
    prism::gpu_lowering::GpuLoweringOptions options;
    options.threads = threads;
    options.sharedMemoryLimit = sharedMemoryLimit;
    if (matrixCores == "mfma")
      options.matrixCores = &mfma;
    else if (matrixCores == "wmma")
      options.matrixCores = &wmma;
    else if (matrixCores != "none") {
      getOperation().emitError("unknown matrix-cores '")
          << matrixCores << "' (expected mfma, wmma or none)";
      return signalPassFailure();
    }
    if (failed(prism::gpu_lowering::lowerTileKernelsToGpu(getOperation(), options)))
      return signalPassFailure();

    // ROCDL lowers exp, log and sqrt to LLVM intrinsics but the rest to
    // __ocml_* calls, which need ROCm's device libraries: rewrite them.
    // Polynomials are a few ulp in f32; sin/cos reduce the angle in f32,
    // so their error grows with |angle| (rope at long positions).
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      name.consume_front("math.");
      return llvm::is_contained({"tanh", "erf", "erfc", "sin", "cos", "atan",
                                 "atan2", "expm1", "log1p", "log2"},
                                name);
    });
    math::populateExpansionPatterns(patterns, {"rsqrt", "exp2", "powf", "tan"});
    patterns.add<FloorThroughIntegers>(&getContext(), /*benefit=*/2);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
