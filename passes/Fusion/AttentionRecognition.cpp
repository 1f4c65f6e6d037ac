//===- AttentionRecognition.cpp - unfused attention to prism.attention ----===//
//
// Walks up from the P V matmul: an optional cast, the softmax, then any of
// cast / scaling by a splat constant / an additive mask, down to the Q K^T
// matmul. Every intermediate must be used only by the next op.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/FusionUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <cmath>

namespace prism {
#define GEN_PASS_DEF_RECOGNIZEATTENTION
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {

/// The value of a splat float constant.
std::optional<double> splatValue(Value value) {
  if (!fusion::isSplatConstant(value))
    return std::nullopt;
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  return cast<SplatElementsAttr>(constant.getValue())
      .getSplatValue<APFloat>()
      .convertToDouble();
}

/// What a constant mask means, when it is exactly a bottom-right aligned
/// causal mask (0 = visible, -inf = hidden), possibly with a window.
struct CausalMask {
  std::optional<int64_t> window;
};

std::optional<CausalMask> matchCausalConstant(Value mask,
                                              ArrayRef<int64_t> scores) {
  auto constant = mask.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  if (!dense || !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  // The mask must be [.., Sq, Skv] itself, not broadcast over queries or
  // keys (a [1, Skv] mask of zeros is not causal).
  ArrayRef<int64_t> shape = dense.getType().getShape();
  if (shape.size() < 2 || llvm::any_of(shape.drop_back(2),
                                       [](int64_t d) { return d != 1; }) ||
      shape.take_back(2) != scores.take_back(2))
    return std::nullopt;
  int64_t rows = shape[shape.size() - 2], columns = shape.back();
  SmallVector<double> values;
  for (APFloat v : dense.getValues<APFloat>())
    values.push_back(v.convertToDouble());
  std::optional<int64_t> window;
  for (int64_t i = 0; i < rows; ++i) {
    int64_t last = i + columns - rows; // the last visible key
    int64_t first = 0;
    bool seenVisible = false;
    for (int64_t j = 0; j < columns; ++j) {
      double v = values[i * columns + j];
      bool visible = v == 0.0;
      if (!visible && !(std::isinf(v) && v < 0))
        return std::nullopt;
      if (visible && j > last)
        return std::nullopt;
      if (visible && !seenVisible) {
        first = j;
        seenVisible = true;
      }
      if (!visible && seenVisible && j <= last)
        return std::nullopt; // a hole in the visible range
    }
    if (last < 0) // a query that sees no key: softmax gives NaN there,
      return std::nullopt; // attention zeros; they differ
    if (!seenVisible)
      return std::nullopt; // a window of 0 keys is not expressible
    if (first > 0) {
      int64_t w = last - first + 1;
      if (window && *window != w)
        return std::nullopt;
      window = w;
    }
  }
  // Rows whose window starts at key 0 must agree with the window too.
  if (window)
    for (int64_t i = 0; i < rows; ++i) {
      int64_t last = i + columns - rows;
      if (last >= 0 && last + 1 > *window && values[i * columns] == 0.0)
        return std::nullopt;
    }
  return CausalMask{window};
}

/// Whether a cast keeps every value (between float types, to at least as
/// many bits): casts of the scores that round or overflow are not skipped.
bool isWidening(CastOp cast) {
  Type from = cast.getInput().getType().getElementType();
  Type to = cast.getType().getElementType();
  return isa<FloatType>(from) && isa<FloatType>(to) &&
         (from == to || (to.isF32() && (from.isF16() || from.isBF16())));
}

/// `def` as scores scaled by a splat constant (scores * c, c * scores,
/// scores / c) that does not broadcast the scores.
struct Scaling {
  Value scores;
  double factor;
};
std::optional<Scaling> scaling(Operation *def) {
  if (!isa<MulOp, DivOp>(def))
    return std::nullopt;
  Value lhs = def->getOperand(0), rhs = def->getOperand(1);
  std::optional<Scaling> result;
  if (std::optional<double> c = splatValue(rhs))
    result = Scaling{lhs, isa<MulOp>(def) ? *c : 1.0 / *c};
  else if (std::optional<double> c = splatValue(lhs); c && isa<MulOp>(def))
    result = Scaling{rhs, *c};
  if (!result || result->scores.getType() != def->getResult(0).getType())
    return std::nullopt;
  return result;
}

/// Whether a constant mask hides every key from some query: softmax gives
/// NaN for that row, prism.attention zeros, so the rewrite would change it.
/// (A mask that is a tensor cannot be inspected; for such rows the
/// recognized attention gives zeros, as prism.attention defines.)
bool hasHiddenRow(Value mask) {
  auto constant = mask.getDefiningOp<arith::ConstantOp>();
  auto dense = constant ? dyn_cast<DenseElementsAttr>(constant.getValue())
                        : DenseElementsAttr();
  if (!dense || !isa<FloatType>(dense.getElementType()) ||
      dense.getType().getRank() == 0)
    return false;
  int64_t row = dense.getType().getShape().back(), i = 0;
  bool hidden = true, any = false;
  for (APFloat v : dense.getValues<APFloat>()) {
    hidden = hidden && v.isInfinity() && v.isNegative();
    if (++i % row == 0) {
      any = any || hidden;
      hidden = true;
    }
  }
  return any;
}

/// Whether `value` leads, through single-use casts and scalings, to a
/// matmul (the scores).
bool leadsToScores(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!value.hasOneUse())
      return false;
    if (isa<MatmulOp>(def))
      return true;
    if (auto cast = dyn_cast<CastOp>(def); cast && isWidening(cast)) {
      value = cast.getInput();
    } else if (auto factor = scaling(def)) {
      value = factor->scores;
    } else {
      return false;
    }
  }
  return false;
}

struct Match {
  MatmulOp scores, output;
  Value key;
  Value mask;
  double scale = 1.0;
  bool causal = false;
  std::optional<int64_t> window;
  /// The ops replaced, from the output backwards.
  SmallVector<Operation *> dead;
};

std::optional<Match> matchAttention(MatmulOp pv) {
  Match m;
  m.output = pv;
  if (pv.getTransposeLhs() || pv.getTransposeRhs() || pv.getBias() ||
      !pv.getAccumulatorType().isF32())
    return std::nullopt;
  m.dead.push_back(pv);
  Value p = pv.getLhs();
  if (auto cast = p.getDefiningOp<CastOp>()) {
    // Probabilities are in [0, 1]: a cast to f16 or bf16 only rounds them
    // (the attention kernel keeps them in f32).
    if (fusion::singleUser(p) != pv || !FusionOp::isElementwise(cast))
      return std::nullopt;
    m.dead.push_back(cast);
    p = cast.getInput();
  }
  auto softmax = p.getDefiningOp<SoftmaxOp>();
  if (!softmax || !p.hasOneUse())
    return std::nullopt;
  int64_t rank = softmax.getType().getRank();
  int64_t axis = static_cast<int64_t>(softmax.getAxis());
  if (axis != -1 && axis != rank - 1)
    return std::nullopt;
  m.dead.push_back(softmax);
  // Scaling applied after the mask was added also scales the mask.
  double maskScale = softmax.getScale().convertToDouble();
  m.scale = maskScale;
  Value s = softmax.getInput();
  while (true) {
    Operation *def = s.getDefiningOp();
    if (!def || !s.hasOneUse() || !fusion::isTopLevel(def))
      return std::nullopt;
    if (auto qk = dyn_cast<MatmulOp>(def)) {
      m.scores = qk;
      break;
    }
    m.dead.push_back(def);
    if (auto cast = dyn_cast<CastOp>(def); cast && isWidening(cast)) {
      s = cast.getInput();
    } else if (std::optional<Scaling> factor = scaling(def)) {
      m.scale *= factor->factor;
      if (!m.mask)
        maskScale *= factor->factor;
      s = factor->scores;
    } else if (auto add = dyn_cast<AddOp>(def); add && !m.mask) {
      bool lhsScores = leadsToScores(add.getLhs()),
           rhsScores = leadsToScores(add.getRhs());
      if (lhsScores == rhsScores)
        return std::nullopt;
      s = lhsScores ? add.getLhs() : add.getRhs();
      m.mask = lhsScores ? add.getRhs() : add.getLhs();
      // The mask must not be broadcast beyond the scores' shape.
      if (add.getType() != s.getType())
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  MatmulOp qk = m.scores;
  if (qk.getTransposeLhs() || qk.getBias() || !qk.getAccumulatorType().isF32())
    return std::nullopt;
  m.dead.push_back(qk);
  m.key = qk.getRhs();
  if (!qk.getTransposeRhs()) {
    auto transpose = m.key.getDefiningOp<TransposeOp>();
    ArrayRef<int64_t> permutation =
        transpose ? transpose.getPermutation() : ArrayRef<int64_t>();
    int64_t r = static_cast<int64_t>(permutation.size());
    if (!transpose || r < 2 || permutation[r - 1] != r - 2 ||
        permutation[r - 2] != r - 1 ||
        !llvm::equal(permutation.drop_back(2), llvm::seq<int64_t>(0, r - 2)))
      return std::nullopt;
    m.key = transpose.getInput();
  }
  if (m.mask) {
    if (std::optional<CausalMask> causal = matchCausalConstant(
            m.mask, cast<RankedTensorType>(qk.getType()).getShape())) {
      // 0 and -inf are unchanged by a positive scale.
      if (maskScale <= 0)
        return std::nullopt;
      m.causal = true;
      m.window = causal->window;
      m.mask = Value();
    } else if (maskScale != 1.0 || hasHiddenRow(m.mask)) {
      return std::nullopt;
    }
  }
  if (!(m.scale > 0) || !std::isfinite(m.scale))
    return std::nullopt;
  return m;
}

/// `value` reshaped to `shape` (same element type).
Value reshapeTo(OpBuilder &b, Location loc, Value value, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  return ReshapeOp::create(b, loc, RankedTensorType::get(shape, type.getElementType()),
                           value);
}

int64_t countDynamic(ArrayRef<int64_t> shape) {
  return llvm::count_if(shape, ShapedType::isDynamic);
}

/// Builds the attention op for a match; null if the shapes do not fit
/// prism.attention.
Value buildAttention(OpBuilder &b, Match &m) {
  Location loc = m.output.getLoc();
  Value q = m.scores.getLhs(), k = m.key, v = m.output.getRhs();
  auto qType = cast<RankedTensorType>(q.getType());
  Type element = qType.getElementType();
  if (cast<RankedTensorType>(k.getType()).getElementType() != element ||
      cast<RankedTensorType>(v.getType()).getElementType() != element ||
      m.output.getType().getElementType() != element)
    return Value();
  ArrayRef<int64_t> qs = fusion::shapeOf(q), ks = fusion::shapeOf(k),
                    vs = fusion::shapeOf(v);
  int64_t rank = qs.size();
  if (ks.size() != qs.size() || vs.size() != qs.size())
    return Value();
  auto sameDim = [](int64_t a, int64_t b) { return a == b; };
  if (ShapedType::isDynamic(qs.back()) || ShapedType::isDynamic(vs.back()))
    return Value(); // attention kernels need static head dims
  SmallVector<Value> operands;
  bool grouped = false;
  if (rank == 4) {
    // [B, H, S, D]; K and V with H heads or one (multi-query).
    if (!sameDim(ks[0], qs[0]) || !sameDim(vs[0], qs[0]) ||
        !(sameDim(ks[1], qs[1]) || ks[1] == 1) || vs[1] != ks[1])
      return Value();
    operands = {q, k, v};
  } else if (rank == 5) {
    // [B, Hkv, G, S, D] against [B, Hkv, 1, S, D]: grouped-query heads.
    if (!sameDim(ks[0], qs[0]) || !sameDim(vs[0], qs[0]) ||
        ShapedType::isDynamic(qs[1]) || ShapedType::isDynamic(qs[2]) ||
        ks[1] != qs[1] || vs[1] != qs[1] || ks[2] != 1 || vs[2] != 1 ||
        countDynamic(qs) > 1 || countDynamic(ks) > 1 || countDynamic(vs) > 1)
      return Value();
    if (m.mask && fusion::shapeOf(m.mask).size() > 2)
      return Value();
    grouped = true;
    operands = {reshapeTo(b, loc, q, {qs[0], qs[1] * qs[2], qs[3], qs[4]}),
                reshapeTo(b, loc, k, {ks[0], ks[1], ks[3], ks[4]}),
                reshapeTo(b, loc, v, {vs[0], vs[1], vs[3], vs[4]})};
  } else {
    return Value();
  }
  ArrayRef<int64_t> q4 = fusion::shapeOf(operands[0]);
  auto type = RankedTensorType::get({q4[0], q4[1], q4[2], vs.back()}, element);
  auto attention = AttentionOp::create(
      b, loc, type, operands[0], operands[1], operands[2], m.mask,
      m.causal ? b.getUnitAttr() : UnitAttr(), b.getF64FloatAttr(m.scale),
      m.window ? b.getI64IntegerAttr(*m.window) : IntegerAttr());
  // The op's own checks decide (a mask that does not broadcast, heads that
  // do not divide): quietly, as not matching is not an error.
  bool valid;
  {
    ScopedDiagnosticHandler quiet(b.getContext(),
                                  [](Diagnostic &) { return success(); });
    valid = succeeded(verify(attention));
  }
  if (!valid) {
    attention.erase();
    for (Value operand : operands)
      if (operand.use_empty() && operand.getDefiningOp<ReshapeOp>())
        operand.getDefiningOp()->erase();
    return Value();
  }
  if (!grouped)
    return attention.getResult();
  ArrayRef<int64_t> os = fusion::shapeOf(m.output.getResult());
  return reshapeTo(b, loc, attention.getResult(), os);
}

struct RecognizeAttentionPass
    : prism::impl::RecognizeAttentionBase<RecognizeAttentionPass> {
  void runOnOperation() override {
    SmallVector<MatmulOp> candidates;
    getOperation().walk([&](MatmulOp matmul) {
      if (fusion::isTopLevel(matmul))
        candidates.push_back(matmul);
    });
    for (MatmulOp pv : candidates) {
      if (!pv->getBlock())
        continue;
      std::optional<Match> match = matchAttention(pv);
      if (!match)
        continue;
      OpBuilder builder(pv);
      Value result = buildAttention(builder, *match);
      if (!result)
        continue;
      pv.getResult().replaceAllUsesWith(result);
      Value key = match->scores.getRhs();
      for (Operation *op : match->dead)
        op->erase();
      if (auto transpose = key.getDefiningOp<TransposeOp>();
          transpose && transpose.use_empty())
        transpose.erase();
    }
  }
};
} // namespace
