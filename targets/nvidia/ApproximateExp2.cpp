//===- ApproximateExp2.cpp - f32 exp2 as one ex2.approx.ftz ---------------===//
//
// libdevice's exp2f is PTX's ex2.approx.f32, which ptxas expands into four
// instructions to keep subnormal results (a compare, a multiply before and
// after MUFU.EX2). The kernels' exp2 is attention's softmax in base 2,
// whose subnormal weights (below 2^-126 of the row's maximum) are zeros to
// any attention; ex2.approx.ftz.f32 is the one MUFU.EX2, with the same
// 2^-22 relative error. Runs after the tile lowering, on the kernels'
// scalar and 1-D vector exp2 (vectors one lane at a time); the GPU emulator
// does not run it and keeps libm's exp2f.
//
//===----------------------------------------------------------------------===//

#include "targets/nvidia/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"

namespace prism::nvidia {
#define GEN_PASS_DEF_NVIDIAAPPROXIMATEEXP2
#include "targets/nvidia/Passes.h.inc"
} // namespace prism::nvidia

using namespace mlir;

namespace {

Value ex2ApproxFtz(OpBuilder &b, Location loc, Value x) {
  return LLVM::InlineAsmOp::create(
             b, loc, b.getF32Type(), ValueRange{x}, "ex2.approx.ftz.f32 $0, $1;", "=f,f",
             /*has_side_effects=*/false, /*is_align_stack=*/false,
             LLVM::tailcallkind::TailCallKind::None,
             LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
             /*operand_attrs=*/nullptr)
      .getRes();
}

struct NvidiaApproximateExp2Pass
    : prism::nvidia::impl::NvidiaApproximateExp2Base<NvidiaApproximateExp2Pass> {
  void runOnOperation() override {
    SmallVector<math::Exp2Op> ops;
    getOperation().walk([&](gpu::GPUFuncOp kernel) {
      kernel.walk([&](math::Exp2Op op) { ops.push_back(op); });
    });
    for (math::Exp2Op op : ops) {
      Type type = op.getType();
      auto vector = dyn_cast<VectorType>(type);
      if (!getElementTypeOrSelf(type).isF32() ||
          (vector && (vector.getRank() != 1 || vector.isScalable())))
        continue; // libdevice's exp2
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value x = op.getOperand();
      if (!vector) {
        op.replaceAllUsesWith(ex2ApproxFtz(b, loc, x));
      } else {
        Value result = arith::ConstantOp::create(b, loc, vector,
                                                 b.getZeroAttr(vector));
        for (int64_t i = 0; i < vector.getDimSize(0); ++i) {
          Value lane = vector::ExtractOp::create(b, loc, x, ArrayRef<int64_t>{i});
          result = vector::InsertOp::create(b, loc, ex2ApproxFtz(b, loc, lane), result,
                                            ArrayRef<int64_t>{i});
        }
        op.replaceAllUsesWith(result);
      }
      op.erase();
    }
  }
};

} // namespace
