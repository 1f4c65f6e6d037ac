//===- FusionOps.cpp - prism.fusion and prism.yield -----------------------===//
//
// The verifier checks that a fusion body has the form its kind names, so
// that kernelization can rely on it and a hand-written fusion gets a clear
// diagnostic instead of a wrong kernel.
//
//===----------------------------------------------------------------------===//

#include "dialects/Prism/IR/PrismOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace prism;

bool FusionOp::isElementwise(Operation *op) {
  if (auto cast = dyn_cast<CastOp>(op))
    return isa<FloatType>(cast.getInput().getType().getElementType()) &&
           llvm::is_contained(
               {32u, 16u}, cast.getType().getElementType().getIntOrFloatBitWidth()) &&
           isa<FloatType>(cast.getType().getElementType());
  return isa<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, SwigluOp, ExpOp, LogOp,
             SqrtOp, RsqrtOp, NegOp, AbsOp, TanhOp, SigmoidOp, ReluOp, SiluOp,
             GeluOp>(op);
}

bool FusionOp::isSplatConstant(Operation *op) {
  auto constant = dyn_cast_if_present<arith::ConstantOp>(op);
  if (!constant)
    return false;
  auto splat = dyn_cast<SplatElementsAttr>(constant.getValue());
  return splat && isa<FloatType>(splat.getElementType());
}

SmallVector<Operation *> FusionOp::getBodyOps() {
  SmallVector<Operation *> ops;
  for (Operation &op : getBody().front().without_terminator())
    ops.push_back(&op);
  return ops;
}

YieldOp FusionOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

std::string FusionOp::checkStructure() {
  SmallVector<Operation *> ops;
  for (Operation *op : getBodyOps()) {
    if (isSplatConstant(op))
      continue;
    bool rotary = getKind() == FusionKind::MatmulRope &&
                  isa<ReshapeOp, RopeOp>(op);
    if (!isElementwise(op) && !rotary &&
        !isa<MatmulOp, RmsNormOp, LayerNormOp>(op))
      return ("'" + op->getName().getStringRef() +
              "' cannot be part of a fused kernel (only elementwise ops, "
              "matmul, rms_norm, layer_norm and splat constants can, and a "
              "matmul's reshape and rope in a 'matmul_rope' fusion)")
          .str();
    ops.push_back(op);
  }
  if (ops.empty())
    return "the body computes nothing";
  YieldOp yield = getYield();
  for (Value v : yield.getValues())
    if (!v.getDefiningOp() || v.getDefiningOp()->getBlock() != &getBody().front() ||
        isSplatConstant(v.getDefiningOp()))
      return "every result must be computed in the body";

  // Elementwise ops from `first` on, all of `shape`.
  auto elementwiseTail = [&](size_t first, ArrayRef<int64_t> shape) -> std::string {
    for (size_t i = first; i < ops.size(); ++i) {
      if (!isElementwise(ops[i]))
        return ("'" + ops[i]->getName().getStringRef() +
                "' cannot follow here in a '" + stringifyFusionKind(getKind()) +
                "' fusion (only elementwise ops can)")
            .str();
      if (shapeOf(ops[i]->getResult(0)) != shape)
        return ("'" + ops[i]->getName().getStringRef() +
                "' changes the shape of the fused computation (every fused "
                "elementwise op must produce the shape of the result)")
            .str();
    }
    return "";
  };
  auto singleResult = [&]() -> std::string {
    if (getNumResults() != 1)
      return ("a '" + stringifyFusionKind(getKind()) + "' fusion has one result")
          .str();
    return "";
  };

  switch (getKind()) {
  case FusionKind::Elementwise: {
    if (std::string why = singleResult(); !why.empty())
      return why;
    return elementwiseTail(0, shapeOf(getResult(0)));
  }
  case FusionKind::Matmul: {
    if (std::string why = singleResult(); !why.empty())
      return why;
    auto matmul = dyn_cast<MatmulOp>(ops.front());
    if (!matmul)
      return "a 'matmul' fusion starts with its prism.matmul";
    return elementwiseTail(1, shapeOf(matmul.getResult()));
  }
  case FusionKind::GatedMatmul: {
    if (std::string why = singleResult(); !why.empty())
      return why;
    auto gate = ops.size() > 2 ? dyn_cast<MatmulOp>(ops[0]) : MatmulOp();
    auto up = ops.size() > 2 ? dyn_cast<MatmulOp>(ops[1]) : MatmulOp();
    if (!gate || !up)
      return "a 'gated_matmul' fusion starts with two prism.matmul ops and "
             "ends with an epilogue that combines them";
    if (gate.getLhs() != up.getLhs() ||
        gate.getTransposeLhs() != up.getTransposeLhs() ||
        gate.getTransposeRhs() != up.getTransposeRhs() ||
        gate.getType() != up.getType() || gate.getRhs().getType() != up.getRhs().getType() ||
        gate.getAccumulatorType() != up.getAccumulatorType())
      return "the two matmuls of a 'gated_matmul' fusion must read the same "
             "lhs with the same transposes, accumulator and types";
    if (gate.getResult().use_empty() || up.getResult().use_empty())
      return "the epilogue of a 'gated_matmul' fusion must use both products";
    return elementwiseTail(2, shapeOf(gate.getResult()));
  }
  case FusionKind::MatmulRope: {
    if (std::string why = singleResult(); !why.empty())
      return why;
    auto matmul = dyn_cast<MatmulOp>(ops.front());
    auto reshape = ops.size() == 3 ? dyn_cast<ReshapeOp>(ops[1]) : ReshapeOp();
    auto rope = ops.size() == 3 ? dyn_cast<RopeOp>(ops[2]) : RopeOp();
    if (!matmul || !reshape || !rope)
      return "a 'matmul_rope' fusion is a prism.matmul, a prism.reshape of "
             "its result and a prism.rope of that";
    ArrayRef<int64_t> product = shapeOf(matmul.getResult());
    ArrayRef<int64_t> heads = shapeOf(reshape.getResult());
    if (reshape.getInput() != matmul.getResult() ||
        rope.getInput() != reshape.getResult() || product.size() != 3 ||
        heads.size() != 4 || product.take_front(2) != heads.take_front(2) ||
        ShapedType::isDynamic(heads[2]) || ShapedType::isDynamic(heads[3]) ||
        ShapedType::isDynamic(product[2]) || heads[2] * heads[3] != product[2])
      return "the reshape of a 'matmul_rope' fusion splits the matmul's "
             "[B, S, H * D] result into [B, S, H, D] (static H and D), and "
             "the rope rotates that";
    if (rope.getStyle() != RopeStyle::Neox ||
        rope.getLayout() != RopeLayout::BSHD || rope.getCosTable())
      return "the rope of a 'matmul_rope' fusion is neox-style, bshd, with "
             "computed angles (no tables)";
    if (!matmul.getAccumulatorType().isF32())
      return "the matmul of a 'matmul_rope' fusion accumulates in f32";
    if (yield.getValues()[0] != rope.getResult())
      return "a 'matmul_rope' fusion yields the rope's result";
    return "";
  }
  case FusionKind::Norm: {
    Operation *norm = ops.back();
    if (!isa<RmsNormOp, LayerNormOp>(norm) || ops.size() < 2)
      return "a 'norm' fusion is elementwise ops (the prologue) followed by "
             "one rms_norm or layer_norm";
    Value input = norm->getOperand(0);
    if (input.getDefiningOp() != ops[ops.size() - 2])
      return "the norm of a 'norm' fusion must normalize the prologue's last "
             "value";
    for (Value operand : norm->getOperands().drop_front())
      if (Operation *def = operand.getDefiningOp();
          def && def->getBlock() == &getBody().front())
        return "the weight and bias of a 'norm' fusion's norm are read from "
               "above the body, not computed in it";
    ArrayRef<Operation *> prologue = ArrayRef<Operation *>(ops).drop_back();
    for (Operation *op : prologue)
      if (!isElementwise(op) || shapeOf(op->getResult(0)) != shapeOf(input))
        return ("'" + op->getName().getStringRef() +
                "' cannot be part of a norm's prologue (elementwise ops of "
                "the normalized shape only)")
            .str();
    if (getNumResults() < 1 || getNumResults() > 2 ||
        yield.getValues()[0] != norm->getResult(0) ||
        (getNumResults() == 2 && yield.getValues()[1] != input))
      return "a 'norm' fusion yields the normalized value, and optionally "
             "the prologue's value (the one normalized)";
    return "";
  }
  }
  return "unknown fusion kind";
}

LogicalResult FusionOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 0)
    return emitOpError("body takes no block arguments (it reads the values "
                       "defined above it directly)");
  if (body.empty() || !isa<YieldOp>(body.back()))
    return emitOpError("body must end with prism.yield");
  YieldOp yield = getYield();
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ")
           << yield.getValues().getTypes() << " but its results are "
           << getResultTypes();
  std::string why = checkStructure();
  if (!why.empty())
    return emitOpError("body is not a '")
           << stringifyFusionKind(getKind()) << "' fusion: " << why;
  return success();
}
