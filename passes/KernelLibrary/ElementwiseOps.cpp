//===- ElementwiseOps.cpp - prism elementwise ops as f32 tile arithmetic ---===//
//
// The one place that says how each elementwise prism op computes on tiles:
// used by single-op elementwise kernels, matmul epilogues, norm prologues
// and fused elementwise kernels alike.
//
//===----------------------------------------------------------------------===//

#include "dialects/Prism/IR/PrismOps.h"
#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace prism::kernels {

/// The f32 body of each elementwise op.
static Value unaryBody(OpBuilder &b, Location loc, Operation *op, Value x) {
  auto splatLike = [&](double value) {
    auto type = cast<RankedTensorType>(x.getType());
    Value scalar = arith::ConstantOp::create(
        b, loc, b.getF32Type(), b.getF32FloatAttr(static_cast<float>(value)));
    return tile::SplatOp::create(b, loc, type, scalar).getResult();
  };
  auto sigmoid = [&](Value v) {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v));
    return arith::DivFOp::create(b, loc, splatLike(1.0),
                                 arith::AddFOp::create(b, loc, splatLike(1.0), e))
        .getResult();
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, x); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, x); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, x); })
      .Case([&](RsqrtOp) { return math::RsqrtOp::create(b, loc, x); })
      .Case([&](NegOp) { return arith::NegFOp::create(b, loc, x); })
      .Case([&](AbsOp) { return math::AbsFOp::create(b, loc, x); })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, x); })
      .Case([&](SigmoidOp) { return sigmoid(x); })
      .Case([&](ReluOp) {
        // maxnumf would turn NaN into 0; relu(NaN) is NaN.
        return arith::MaximumFOp::create(b, loc, x, splatLike(0.0));
      })
      .Case([&](SiluOp) { return arith::MulFOp::create(b, loc, x, sigmoid(x)); })
      .Case([&](GeluOp gelu) -> Value {
        Value half = arith::MulFOp::create(b, loc, x, splatLike(0.5));
        Value inner;
        if (gelu.getApproximate() == GeluApproximation::Tanh) {
          Value cube = arith::MulFOp::create(
              b, loc, x, arith::MulFOp::create(b, loc, x, x));
          Value poly = arith::AddFOp::create(
              b, loc, x, arith::MulFOp::create(b, loc, cube, splatLike(0.044715)));
          inner = math::TanhOp::create(
              b, loc,
              arith::MulFOp::create(b, loc, poly,
                                    splatLike(std::sqrt(2.0 / M_PI))));
        } else {
          inner = math::ErfOp::create(
              b, loc, arith::MulFOp::create(b, loc, x, splatLike(M_SQRT1_2)));
        }
        return arith::MulFOp::create(
            b, loc, half, arith::AddFOp::create(b, loc, splatLike(1.0), inner));
      })
      .Default([](Operation *) { return Value(); });
}

static Value binaryBody(OpBuilder &b, Location loc, Operation *op, Value x,
                        Value y) {
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) { return arith::AddFOp::create(b, loc, x, y); })
      .Case([&](SubOp) { return arith::SubFOp::create(b, loc, x, y); })
      .Case([&](MulOp) { return arith::MulFOp::create(b, loc, x, y); })
      .Case([&](DivOp) { return arith::DivFOp::create(b, loc, x, y); })
      .Case([&](MaxOp) { return arith::MaximumFOp::create(b, loc, x, y); })
      .Case([&](MinOp) { return arith::MinimumFOp::create(b, loc, x, y); })
      .Case([&](SwigluOp) {
        Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
        auto type = cast<RankedTensorType>(x.getType());
        Value one = tile::SplatOp::create(
            b, loc, type,
            arith::ConstantOp::create(b, loc, b.getF32Type(),
                                      b.getF32FloatAttr(1.0f)));
        Value silu = arith::DivFOp::create(
            b, loc, x, arith::AddFOp::create(b, loc, one, e));
        return arith::MulFOp::create(b, loc, silu, y);
      })
      .Default([](Operation *) { return Value(); });
}

Value emitElementwiseOp(KernelBuilder &k, Operation *op, ArrayRef<Value> operands) {
  OpBuilder &b = k.builder();
  Location loc = op->getLoc();
  if (auto cast = dyn_cast<CastOp>(op))
    return k.toF32(k.convert(operands[0], cast.getType().getElementType()));
  Value result = operands.size() == 1
                     ? unaryBody(b, loc, op, operands[0])
                     : binaryBody(b, loc, op, operands[0], operands[1]);
  assert(result && "not an elementwise prism op");
  return result;
}

Value emitFusedValue(KernelBuilder &k, ArrayRef<Operation *> ops,
                     DenseMap<Value, Value> &known, Value root,
                     ArrayRef<int64_t> shape) {
  auto tileOf = [&](Value v) -> Value {
    if (Value t = known.lookup(v))
      return t;
    // A splat constant (inside the body or above it).
    auto constant = cast<arith::ConstantOp>(v.getDefiningOp());
    auto splat = cast<SplatElementsAttr>(constant.getValue());
    Value t = k.splat(
        k.f32(splat.getSplatValue<APFloat>().convertToDouble()), shape);
    known[v] = t;
    return t;
  };
  for (Operation *op : ops) {
    if (FusionOp::isSplatConstant(op) || known.count(op->getResult(0)))
      continue;
    SmallVector<Value> operands;
    for (Value operand : op->getOperands())
      operands.push_back(tileOf(operand));
    known[op->getResult(0)] = emitElementwiseOp(k, op, operands);
  }
  return tileOf(root);
}

} // namespace prism::kernels
